// Command discovery shows a gateway that takes its backends from DNS SRV
// records, as a Kubernetes headless Service publishes them, and follows
// them as they change: the example runs its own DNS server on loopback,
// starts with backend "blue" in the records, then replaces it with
// "green" ten seconds later (at once with -check). Requests move over
// with no failed request; the gateway logs backends_changed.
//
//	go run ./examples/discovery                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/discovery -check -addr 127.0.0.1:0   # check that traffic moves, and exit
//
// While it serves, run the printed curl command before and after the
// switch: the X-Upstream header of the answer changes from blue to green.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/discovery"
	"github.com/apigate-go/apigate/examples/internal/excheck"
	"github.com/apigate-go/apigate/examples/upstream"
	"github.com/apigate-go/apigate/internal/dnstest"
	"github.com/apigate-go/apigate/observe"
)

func main() {
	excheck.Main(run)
}

const srvName = "_http._tcp.items.example.test."

// record returns the SRV record of the upstream at url.
func record(url string) dnstest.SRV {
	ap := netip.MustParseAddrPort(url[len("http://"):])
	return dnstest.SRV{Priority: 1, Weight: 1, Port: ap.Port(), Target: "items.example.test."}
}

func run(addr string, check bool) error {
	blue, stopBlue, err := upstream.Start("blue")
	if err != nil {
		return err
	}
	defer stopBlue()
	green, stopGreen, err := upstream.Start("green")
	if err != nil {
		return err
	}
	defer stopGreen()

	dns, err := dnstest.Start()
	if err != nil {
		return err
	}
	defer dns.Close()
	dns.SetIPs("items.example.test", netip.MustParseAddr("127.0.0.1"))
	dns.SetSRV(srvName, record(blue))

	refresh := time.Second
	if check {
		refresh = 20 * time.Millisecond
	}
	g, err := apigate.New(
		apigate.Mount(apigate.Service("/items", apigate.GET("/*rest"))),
		apigate.Discover("items", discovery.DNS(discovery.DNSOptions{
			Name: srvName, SRV: true, Refresh: refresh, Resolver: dns.Resolver(),
		})),
		apigate.WithObserver(observe.Slog(slog.New(slog.NewTextHandler(os.Stderr, nil)))),
	)
	if err != nil {
		return err
	}
	defer g.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	fmt.Printf("DNS server on %s: %s -> blue (%s)\n", dns.Addr, srvName, blue)
	fmt.Printf("  curl -si %s/items/1\n", base)

	if !check {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		select {
		case <-time.After(10 * time.Second):
			dns.SetSRV(srvName, record(green))
			fmt.Printf("records changed: %s -> green (%s); run the curl command again\n", srvName, green)
		case <-ctx.Done():
			return nil
		}
		<-ctx.Done()
		return nil
	}

	if err := expect(base, "blue"); err != nil {
		return err
	}
	dns.SetSRV(srvName, record(green))
	fmt.Println("records changed: now green")
	if err := expect(base, "green"); err != nil {
		return err
	}
	fmt.Println("ok: traffic moved from blue to green")
	return nil
}

// expect waits until the gateway's answers come from the named upstream,
// failing on any non-200 answer.
func expect(base, name string) error {
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; ; n++ {
		res, err := http.Get(base + "/items/" + strconv.Itoa(n))
		if err != nil {
			return err
		}
		res.Body.Close()
		got := res.Header.Get("X-Upstream")
		// 503 only before the first DNS answer; nothing else may fail.
		if res.StatusCode != http.StatusOK && (res.StatusCode != http.StatusServiceUnavailable || got != "") {
			return fmt.Errorf("GET /items/%d: status %d", n, res.StatusCode)
		}
		if got == name {
			fmt.Printf("GET /items/%d -> %s\n", n, name)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("answers still from %q, want %q", got, name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Command multipart shows Multipart upload routes: the body streams to the
// upstream as it arrives, never buffered and never bounded by the JSON/form
// body limit (the mock upstream reports body_size), with and without an
// auth hook in front, and a 415 for a body that is not multipart.
//
//	go run ./examples/multipart                            # serve on 127.0.0.1:8080 until Ctrl-C
//	go run ./examples/multipart -check -addr 127.0.0.1:0   # send the printed requests itself and exit
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/examples/upstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	check := flag.Bool("check", false, "send the example requests, verify the answers, and exit")
	flag.Parse()
	if err := run(*addr, *check); err != nil {
		log.Fatal(err)
	}
}

// requireToken lets only callers with the upload token through. Hooks see
// the request head only: they run before a single byte of the upload is
// read, so a refused upload costs nothing.
func requireToken(c *apigate.Ctx) error {
	if c.Header("Authorization") != "Bearer upload-token" {
		return apigate.Unauthorized("missing or bad upload token")
	}
	c.DelHeader("Authorization")
	return c.SetHeader("X-User-Id", "u-uploader")
}

func run(addr string, check bool) error {
	backend, stop, err := upstream.Start("storage-v1")
	if err != nil {
		return err
	}
	defer stop()

	files := apigate.Service("/files",
		apigate.POST("/upload", apigate.Multipart(), apigate.To("/storage/public")),
		apigate.POST("/private/upload", apigate.Multipart(), apigate.Before(requireToken), apigate.To("/storage/private")),
	)
	gw, err := apigate.New(apigate.Mount(files, backend))
	if err != nil {
		return err
	}

	calls := []call{
		{note: "a field and a small file: the upstream gets the multipart body as sent",
			path: "/files/upload", form: []string{"title=holiday", "file=hello gateway;filename=notes.txt;type=text/plain"},
			status: 200, want: []string{`"path": "/storage/public"`, `"Content-Type": "multipart/form-data; boundary=`,
				`filename=\"notes.txt\"`, `hello gateway`}},
		{note: "5 MB from stdin, past the 2 MiB JSON/form body limit: multipart streams, nothing is buffered",
			path: "/files/upload", stdin: 5_000_000, form: []string{"file=@-;filename=zeros.bin"},
			status: 200, want: []string{`"body_size": 5000`}},
		{note: "the private route without a token: 401 before the upload is read",
			path: "/files/private/upload", form: []string{"file=hello gateway;filename=notes.txt"},
			status: 401, want: []string{"unauthorized: missing or bad upload token"}},
		{note: "with the token: the hook ran, then the body streamed",
			path: "/files/private/upload", header: []string{"Authorization: Bearer upload-token"},
			form:   []string{"file=hello gateway;filename=notes.txt"},
			status: 200, want: []string{`"path": "/storage/private"`, `"X-User-Id": "u-uploader"`, `hello gateway`},
			deny: []string{"upload-token"}},
		{note: "not multipart: 415",
			method: "POST", path: "/files/upload", header: []string{"Content-Type: application/json"}, body: `{"title":"holiday"}`,
			status: 415, want: []string{"unsupported_media_type"}},
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	ln, err := apigate.Listen(ctx, addr, apigate.ServeOptions{})
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Printf("gateway on %s in front of the mock upstream %s\ntry:\n", base, backend)
	for _, c := range calls {
		fmt.Printf("  # %s\n  %s\n", c.note, c.curl(base))
	}
	if !check {
		return apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	}
	go apigate.Serve(ctx, ln, gw, apigate.ServeOptions{})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range calls {
		if err := c.check(client, base); err != nil {
			return err
		}
	}
	return nil
}

// call is one example request: main prints it as a curl command, and
// -check sends the same request and verifies the answer.
type call struct {
	note   string   // what the request shows
	method string   // GET when empty and there is no form
	path   string   // path and query, appended to the gateway's base URL
	header []string // "Name: value"
	body   string   // sent as curl -d sends it
	form   []string // curl -F arguments: "name=value" or "name=content;filename=f;type=t", "@-" for stdin
	stdin  int      // bytes of zeros piped into curl (head -c N /dev/zero |)
	status int      // the status the answer must have
	want   []string // text the answer (status line, headers, body) must hold
	deny   []string // text it must not hold
}

// curl returns the call as a command line that works as printed.
func (c call) curl(base string) string {
	s := "curl -s"
	if c.status != http.StatusOK {
		s = "curl -si"
	}
	if c.stdin > 0 {
		s = "head -c " + strconv.Itoa(c.stdin) + " /dev/zero | " + s
	}
	if c.method != "" && (c.method != http.MethodPost || c.body == "") {
		s += " -X " + c.method
	}
	for _, h := range c.header {
		s += " -H " + quote(h)
	}
	for _, f := range c.form {
		s += " -F " + quote(f)
	}
	if c.body != "" {
		s += " -d " + quote(c.body)
	}
	return s + " " + quote(base+c.path)
}

// check sends the call as curl would and compares the answer.
func (c call) check(client *http.Client, base string) error {
	method := cmp.Or(c.method, http.MethodGet)
	var body io.Reader = strings.NewReader(c.body)
	contentType := ""
	if c.body != "" {
		contentType = "application/x-www-form-urlencoded" // curl -d's default
	}
	if c.form != nil {
		method = cmp.Or(c.method, http.MethodPost)
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() { pw.CloseWithError(writeForm(mw, c.form, c.stdin)) }()
		body, contentType = pr, mw.FormDataContentType()
	}
	req, err := http.NewRequest(method, base+c.path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range c.header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.path, err)
	}
	var ans strings.Builder
	fmt.Fprintf(&ans, "%s %s\n", res.Proto, res.Status)
	res.Header.Write(&ans)
	ans.WriteString("\n")
	ans.Write(b)
	got := ans.String()
	if res.StatusCode != c.status {
		return fmt.Errorf("%s %s: status %d, want %d; answer:\n%s", method, c.path, res.StatusCode, c.status, got)
	}
	for _, w := range c.want {
		if !strings.Contains(got, w) {
			return fmt.Errorf("%s %s: answer lacks %q; answer:\n%s", method, c.path, w, got)
		}
	}
	for _, d := range c.deny {
		if strings.Contains(got, d) {
			return fmt.Errorf("%s %s: answer holds %q; answer:\n%s", method, c.path, d, got)
		}
	}
	fmt.Printf("ok  %s %s → %d\n", method, c.path, res.StatusCode)
	return nil
}

// writeForm writes curl -F arguments as multipart parts; "@-" stands for
// stdin bytes of zeros.
func writeForm(mw *multipart.Writer, form []string, stdin int) error {
	for _, f := range form {
		spec, opts, _ := strings.Cut(f, ";")
		name, value, _ := strings.Cut(spec, "=")
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf("form-data; name=%q", name)
		for opt := range strings.SplitSeq(opts, ";") {
			k, v, _ := strings.Cut(opt, "=")
			switch k {
			case "filename":
				disp += fmt.Sprintf("; filename=%q", v)
				h.Set("Content-Type", "application/octet-stream")
			case "type":
				h.Set("Content-Type", v)
			}
		}
		h.Set("Content-Disposition", disp)
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		var src io.Reader = strings.NewReader(value)
		if value == "@-" {
			src = io.LimitReader(zeros{}, int64(stdin))
		}
		if _, err := io.Copy(w, src); err != nil {
			return err
		}
	}
	return mw.Close()
}

// zeros reads as an endless run of zero bytes, like /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

package redis_test

import (
	"log"
	"time"

	"github.com/apigate-go/apigate"
	"github.com/apigate-go/apigate/ratelimit"
	ratelimitredis "github.com/apigate-go/apigate/ratelimit/redis"
	goredis "github.com/redis/go-redis/v9"
)

// Every replica runs the same configuration against the same Redis: the
// 100 requests a minute per API key hold across all of them.
func Example() {
	api := apigate.Service("/api",
		apigate.RateLimit(ratelimit.Limit{Name: "per-key", Rate: 100, Per: time.Minute}, apigate.LimitByHeader("X-Api-Key")),
		apigate.GET("/items/:id"),
	)
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", MaxRetries: 1})
	store := ratelimitredis.New(client, ratelimitredis.Options{
		FailClosed: false, // Redis down: let requests through
		OnError:    func(err error) { log.Print(err) },
	})
	gw, err := apigate.New(
		apigate.Mount(api, "http://192.0.2.10:8080"),
		apigate.WithRateLimiter(store),
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = gw // serve it with apigate.ListenAndServe
}

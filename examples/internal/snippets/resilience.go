package snippets

import (
	"time"

	"github.com/apigate-go/apigate"
)

// Resilience builds the gateway of docs/resilience.md.
func Resilience() (*apigate.Gateway, error) {
	orders := apigate.Service("/orders",
		apigate.GET("/:id"),
		apigate.PUT("/:id", apigate.Retries(apigate.RetryOptions{Statuses: []int{503}})),
		apigate.POST("/", apigate.MaxInFlight(200)),
		apigate.HealthCheck(apigate.HealthCheckOptions{Path: "/healthz"}),
		apigate.CircuitBreaker(apigate.BreakerOptions{}),
	)

	gw, err := apigate.New(
		apigate.Mount(orders, "http://192.0.2.1:8080", "http://192.0.2.2:8080", "http://192.0.2.3:8080"),
		apigate.WithOutlierDetection(apigate.OutlierOptions{Failures: 5, BaseEjection: 30 * time.Second}),
		apigate.WithRetries(apigate.RetryOptions{Attempts: 2, PerTryTimeout: 2 * time.Second}),
		apigate.WithBackendMaxInFlight(500),
	)
	return gw, err
}

// ResilienceClose is the shutdown of docs/resilience.md.
func ResilienceClose(gw *apigate.Gateway) {
	defer gw.Close() // stops the health checks
}

// ResilienceOff turns every default off, as docs/resilience.md shows.
func ResilienceOff(api *apigate.ServiceSpec) apigate.Option {
	opts := []apigate.Option{
		apigate.WithOutlierDetection(apigate.OutlierOptions{Disable: true}),
		apigate.WithRetries(apigate.RetryOptions{Disable: true}),
	}
	_ = opts
	return apigate.Mount(api, "http://192.0.2.1:8080")
}

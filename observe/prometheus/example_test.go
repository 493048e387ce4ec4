package prometheus_test

import (
	"net/http"

	"github.com/apigate-go/apigate/observe"
	apigateprom "github.com/apigate-go/apigate/observe/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Register the collector and serve /metrics, as docs/observability.md
// shows.
func ExampleNewCollector() {
	metrics := observe.NewMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(apigateprom.NewCollector(metrics, apigateprom.Options{}))
	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

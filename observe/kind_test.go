package observe

import "testing"

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{RequestStarted, "request_started"},
		{BackendSelected, "backend_selected"},
		{PipelineFailed, "pipeline_failed"},
		{DispatchFailed, "dispatch_failed"},
		{UpstreamSucceeded, "upstream_succeeded"},
		{UpstreamFailed, "upstream_failed"},
		{BackendEjected, "backend_ejected"},
		{BackendReadmitted, "backend_readmitted"},
		{BackendUnhealthy, "backend_unhealthy"},
		{BackendHealthy, "backend_healthy"},
		{HealthChecked, "health_checked"},
		{RequestRetried, "request_retried"},
		{CircuitOpened, "circuit_opened"},
		{CircuitHalfOpen, "circuit_half_open"},
		{CircuitClosed, "circuit_closed"},

		{RequestEnded, "request_ended"},
		{PanicRecovered, "panic_recovered"},
		{0, "kind(0)"},
		{NoRoute, "no_route"},
		{Responded, "responded"},
		{BackendsChanged, "backends_changed"},
		{BackendsRefused, "backends_refused"},
		{BackendsRefused + 1, "kind(22)"},
		{255, "kind(255)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.kind.String(); got != tt.want {
				t.Errorf("Kind(%d).String() = %q, want %q", uint8(tt.kind), got, tt.want)
			}
		})
	}
}

func TestKindTerminal(t *testing.T) {
	tests := []struct {
		kind Kind
		want bool
	}{
		{RequestStarted, false},
		{BackendSelected, false},
		{PipelineFailed, true},
		{DispatchFailed, true},
		{UpstreamSucceeded, true},
		{UpstreamFailed, true},
		{NoRoute, true},
		{Responded, true},
		{BackendEjected, false},
		{RequestRetried, false},
		{CircuitClosed, false},
		{RequestEnded, false},
		{PanicRecovered, false},
		{0, false},
		{PanicRecovered + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if got := tt.kind.Terminal(); got != tt.want {
				t.Errorf("%v.Terminal() = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
}

func TestKindResilience(t *testing.T) {
	for k := Kind(0); k < 20; k++ {
		want := k >= BackendEjected && k <= CircuitClosed
		if got := k.Resilience(); got != want {
			t.Errorf("%v.Resilience() = %v, want %v", k, got, want)
		}
		if k.Resilience() && k.Terminal() {
			t.Errorf("%v is both a resilience event and terminal", k)
		}
	}
}

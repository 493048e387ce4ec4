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
		{RequestEnded, "request_ended"},
		{PanicRecovered, "panic_recovered"},
		{AttemptFailed, "attempt_failed"},
		{0, "kind(0)"},
		{NoRoute, "no_route"},
		{Responded, "responded"},
		{AttemptFailed + 1, "kind(12)"},
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
		{RequestEnded, false},
		{PanicRecovered, false},
		{AttemptFailed, false},
		{0, false},
		{AttemptFailed + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			if got := tt.kind.Terminal(); got != tt.want {
				t.Errorf("%v.Terminal() = %v, want %v", tt.kind, got, tt.want)
			}
		})
	}
}

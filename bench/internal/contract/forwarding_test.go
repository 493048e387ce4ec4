package contract

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	for _, r := range Routes() {
		p, gw := r.Probe("tok"), r.Gateway("tok")
		if p.Path != r.Path+"?"+EchoQuery || p.Method != gw.Method || string(p.Body) != string(gw.Body) || len(p.Header) != len(gw.Header) {
			t.Errorf("%s: probe %+v, want the gateway request %+v with ?%s", r.Name, p, gw, EchoQuery)
		}
	}
}

func TestCheckForwarding(t *testing.T) {
	good := map[string]string{
		"X-Forwarded-For":   "127.0.0.1",
		"X-Forwarded-Host":  "127.0.0.1:8080",
		"X-Forwarded-Proto": "http",
		"Forwarded":         `for=127.0.0.1;host="127.0.0.1:8080";proto=http`,
		"X-Request-Id":      "abc-1",
	}
	with := func(k, v string) map[string]string {
		m := maps.Clone(good)
		m[k] = v
		return m
	}
	tests := []struct {
		name    string
		status  int
		seen    map[string]string
		respID  []string
		wantErr string // "" for none
	}{
		{"good", 200, good, []string{"abc-1"}, ""},
		{"unquoted host", 200, with("Forwarded", "for=127.0.0.1;host=gw;proto=http"), []string{"abc-1"}, ""},
		{"ipv6", 200, with("Forwarded", `for="[::1]";host=gw;proto=http`), []string{"abc-1"}, "Forwarded"},
		{"status", 404, good, []string{"abc-1"}, "answered 404"},
		{"no forwarded", 200, with("Forwarded", ""), []string{"abc-1"}, "missing Forwarded"},
		{"no request id", 200, with("X-Request-Id", ""), nil, "missing X-Request-Id"},
		{"xff not an ip", 200, with("X-Forwarded-For", "client"), []string{"abc-1"}, "X-Forwarded-For"},
		{"xff chain", 200, with("X-Forwarded-For", "192.0.2.1, 127.0.0.1"), []string{"abc-1"}, "X-Forwarded-For"},
		{"proto", 200, with("X-Forwarded-Proto", "https"), []string{"abc-1"}, "X-Forwarded-Proto"},
		{"forwarded for another ip", 200, with("Forwarded", "for=192.0.2.1;host=gw;proto=http"), []string{"abc-1"}, "Forwarded"},
		{"forwarded without host", 200, with("Forwarded", "for=127.0.0.1;proto=http"), []string{"abc-1"}, "Forwarded"},
		{"forwarded two elements", 200, with("Forwarded", "for=127.0.0.1;host=gw;proto=http, for=127.0.0.1;host=gw;proto=http"), []string{"abc-1"}, "Forwarded"},
		{"response without id", 200, good, nil, "response X-Request-Id"},
		{"response with another id", 200, good, []string{"abc-2"}, "response X-Request-Id"},
		{"response with two ids", 200, good, []string{"abc-1", "abc-1"}, "response X-Request-Id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(tt.seen)
			h := http.Header{}
			for _, v := range tt.respID {
				h.Add(HeaderRequestID, v)
			}
			err := CheckForwarding(tt.status, h, body)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one about %s", err, tt.wantErr)
			}
		})
	}
	if err := CheckForwarding(200, http.Header{}, []byte(`{"items":[]`)); err == nil {
		t.Error("a body that is not the echo passed")
	}
}

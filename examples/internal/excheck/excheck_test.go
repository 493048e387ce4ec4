package excheck

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCurl(t *testing.T) {
	const base = "http://127.0.0.1:8080"
	tests := []struct {
		name string
		call Call
		want string
	}{
		{"get", Call{Path: "/a?b=1", Status: 200},
			"curl -s 'http://127.0.0.1:8080/a?b=1'"},
		{"error status shows the head", Call{Path: "/a", Status: 404},
			"curl -si 'http://127.0.0.1:8080/a'"},
		{"show headers", Call{Path: "/a", Status: 200, ShowHeaders: true},
			"curl -si 'http://127.0.0.1:8080/a'"},
		{"delete with header", Call{Method: "DELETE", Path: "/a", Header: []string{"X-A: it's"}, Status: 200},
			`curl -s -X DELETE -H 'X-A: it'\''s' 'http://127.0.0.1:8080/a'`},
		{"post with body needs no -X", Call{Method: "POST", Path: "/a", Body: `{"q":1}`, Status: 200},
			`curl -s -d '{"q":1}' 'http://127.0.0.1:8080/a'`},
		{"post without body", Call{Method: "POST", Path: "/a", Status: 200},
			"curl -s -X POST 'http://127.0.0.1:8080/a'"},
		{"stream", Call{Path: "/feed", Stream: true, Status: 200},
			"curl -sN 'http://127.0.0.1:8080/feed'"},
		{"big header", Call{Path: "/a", BigHeader: 10, Status: 431},
			`curl -si -H "X-Big: $(head -c 10 /dev/zero | tr '\0' a)" 'http://127.0.0.1:8080/a'`},
		{"form from stdin", Call{Path: "/up", Stdin: 5, Form: []string{"file=@-;filename=z.bin"}, Status: 200},
			"head -c 5 /dev/zero | curl -s -F 'file=@-;filename=z.bin' 'http://127.0.0.1:8080/up'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.call.Curl(base); got != tt.want {
				t.Errorf("Curl() = %s, want %s", got, tt.want)
			}
		})
	}
}

// echo answers with the request's method, path, headers and body, and
// writes "logged <path>" to log.
func echo(log io.Writer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(log, "logged %s\n", r.URL.Path)
		w.Header().Set("X-Echo", "yes")
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
		fmt.Fprintf(w, "%s %s\n", r.Method, r.URL.Path)
		r.Header.Write(w)
		io.Copy(w, r.Body)
	})
}

// wantError fails t unless err is nil when want is "", or else holds want.
func wantError(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("Check() = %v, want nil", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("Check() = %v, want an error holding %q", err, want)
	}
}

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(echo(io.Discard))
	defer srv.Close()
	tests := []struct {
		name    string
		call    Call
		wantErr string // "" for success
	}{
		{"status and body", Call{Path: "/a", Status: 200, Want: []string{"GET /a", "X-Echo: yes"}}, ""},
		{"wrong status", Call{Path: "/missing", Status: 200}, "status 404, want 200"},
		{"missing text", Call{Path: "/a", Status: 200, Want: []string{"nope"}}, `answer lacks "nope"`},
		{"denied text", Call{Path: "/a", Status: 200, Deny: []string{"GET"}}, `answer holds "GET"`},
		{"body as curl -d", Call{Method: "POST", Path: "/a", Body: "x=1", Status: 200,
			Want: []string{"POST /a", "Content-Type: application/x-www-form-urlencoded", "x=1"}}, ""},
		{"header wins over the -d default", Call{Method: "POST", Path: "/a", Body: "{}",
			Header: []string{"Content-Type: application/json"}, Status: 200,
			Want: []string{"Content-Type: application/json"}}, ""},
		{"big header", Call{Path: "/a", BigHeader: 3, Status: 200, Want: []string{"X-Big: aaa"}}, ""},
		{"multipart form", Call{Path: "/up", Stdin: 4, Form: []string{"t=hi", "file=@-;filename=z.bin"}, Status: 200,
			Want: []string{"POST /up", "multipart/form-data; boundary=", `name="t"`, "hi", `filename="z.bin"`, "\x00\x00\x00\x00\r\n"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, tt.call.Check(nil, srv.URL), tt.wantErr)
		})
	}
}

func TestExampleCheckLogs(t *testing.T) {
	log := &Log{}
	srv := httptest.NewServer(echo(log))
	defer srv.Close()
	tests := []struct {
		name    string
		calls   []Call
		wantErr string
	}{
		{"each call sees its own lines", []Call{
			{Path: "/a", Status: 200, Logs: []string{"logged /a"}},
			{Path: "/b", Status: 200, Logs: []string{"logged /b"}, NoLogs: []string{"logged /a"}},
		}, ""},
		{"missing line", []Call{{Path: "/a", Status: 200, Logs: []string{"logged /z"}}}, `the log lacks "logged /z"`},
		{"denied line", []Call{{Path: "/a", Status: 200, NoLogs: []string{"logged /a"}}}, `the log holds "logged /a"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, Example{Calls: tt.calls, Log: log}.Check(nil, srv.URL), tt.wantErr)
		})
	}
}

func TestExampleCheckWithoutLog(t *testing.T) {
	srv := httptest.NewServer(echo(io.Discard))
	defer srv.Close()
	err := Example{Calls: []Call{{Path: "/a", Status: 200, Logs: []string{"x"}}}}.Check(nil, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "has none") {
		t.Errorf("Check() = %v, want an error saying the example has no log", err)
	}
}

func TestExampleCheckStopsAtFirstFailure(t *testing.T) {
	log := &Log{}
	srv := httptest.NewServer(echo(log))
	defer srv.Close()
	err := Example{Calls: []Call{{Path: "/missing", Status: 200}, {Path: "/a", Status: 200}}}.Check(nil, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "status 404, want 200") {
		t.Errorf("Check() = %v, want the first call's status error", err)
	}
	if got := log.String(); strings.Contains(got, "/a") {
		t.Errorf("the server saw %q after the first failure, want no second request", got)
	}
}

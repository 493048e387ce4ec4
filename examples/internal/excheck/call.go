// Package excheck is the example programs' request helper: an example
// lists its requests as [Call] values, prints them as curl commands that
// work as printed, and with -check sends the same requests itself and
// verifies the answers (see [Example]).
package excheck

import (
	"cmp"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Call is one example request: it is printed as a curl command, and -check
// sends the same request and verifies the answer.
type Call struct {
	// Note says what the request shows; it is printed as a comment above
	// the command.
	Note string
	// Method is the request method: GET when empty, or POST when Form is
	// set.
	Method string
	// Path is the path and query, appended to the gateway's base URL.
	Path string
	// Header lists request headers as "Name: value".
	Header []string
	// Body is sent as curl -d sends it: with Content-Type
	// application/x-www-form-urlencoded unless Header sets another.
	Body string
	// Form lists curl -F arguments, "name=value" or
	// "name=content;filename=f;type=t"; a content of "@-" reads Stdin.
	// The parts are streamed as multipart/form-data.
	Form []string
	// Stdin is how many zero bytes are piped into curl
	// (head -c N /dev/zero |), for a "@-" part of Form.
	Stdin int
	// BigHeader, if positive, adds an X-Big header of that many bytes,
	// printed as a shell expansion.
	BigHeader int
	// Stream prints curl -N, which shows chunks as they arrive.
	Stream bool
	// ShowHeaders prints curl -i (the response head) even for a 200.
	ShowHeaders bool
	// Status is the status the answer must have.
	Status int
	// Want lists text the answer (status line, headers, body) must hold.
	Want []string
	// Deny lists text the answer must not hold.
	Deny []string
	// Logs lists text the example's log must hold after the request (see
	// Example.Log).
	Logs []string
	// NoLogs lists text the request must not add to the example's log.
	NoLogs []string
}

// Curl returns the call as a curl command line for the gateway at base
// ("http://host:port"), quoted for a POSIX shell.
func (c Call) Curl(base string) string {
	s := "curl -s"
	if c.ShowHeaders || c.Status != http.StatusOK {
		s += "i"
	}
	if c.Stream {
		s += "N"
	}
	if c.Stdin > 0 {
		s = "head -c " + strconv.Itoa(c.Stdin) + " /dev/zero | " + s
	}
	if c.Method != "" && (c.Method != http.MethodPost || c.Body == "") {
		s += " -X " + c.Method
	}
	for _, h := range c.Header {
		s += " -H " + Quote(h)
	}
	if c.BigHeader > 0 {
		s += ` -H "X-Big: $(head -c ` + strconv.Itoa(c.BigHeader) + ` /dev/zero | tr '\0' a)"`
	}
	for _, f := range c.Form {
		s += " -F " + Quote(f)
	}
	if c.Body != "" {
		s += " -d " + Quote(c.Body)
	}
	return s + " " + Quote(base+c.Path)
}

// Check sends the call to the gateway at base as curl would, verifies the
// status and the Want and Deny texts, and prints an "ok" line to standard
// output. A nil client means one with a 10-second timeout. Check does not
// look at Logs and NoLogs; [Example.Check] does.
func (c Call) Check(client *http.Client, base string) error {
	if client == nil {
		client = newClient()
	}
	method := cmp.Or(c.Method, http.MethodGet)
	var body io.Reader = strings.NewReader(c.Body)
	contentType := ""
	if c.Body != "" {
		contentType = "application/x-www-form-urlencoded" // curl -d's default
	}
	if c.Form != nil {
		method = cmp.Or(c.Method, http.MethodPost)
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() { pw.CloseWithError(writeForm(mw, c.Form, c.Stdin)) }()
		body, contentType = pr, mw.FormDataContentType()
	}
	req, err := http.NewRequest(method, base+c.Path, body)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range c.Header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	if c.BigHeader > 0 {
		req.Header.Set("X-Big", strings.Repeat("a", c.BigHeader))
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.Path, err)
	}
	var ans strings.Builder
	fmt.Fprintf(&ans, "%s %s\n", res.Proto, res.Status)
	res.Header.Write(&ans)
	ans.WriteString("\n")
	ans.Write(b)
	got := ans.String()
	if res.StatusCode != c.Status {
		return fmt.Errorf("%s %s: status %d, want %d; answer:\n%s", method, c.Path, res.StatusCode, c.Status, got)
	}
	for _, w := range c.Want {
		if !strings.Contains(got, w) {
			return fmt.Errorf("%s %s: answer lacks %q; answer:\n%s", method, c.Path, w, got)
		}
	}
	for _, d := range c.Deny {
		if strings.Contains(got, d) {
			return fmt.Errorf("%s %s: answer holds %q; answer:\n%s", method, c.Path, d, got)
		}
	}
	fmt.Printf("ok  %s %s → %d\n", method, c.Path, res.StatusCode)
	return nil
}

// Quote quotes s for a POSIX shell.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// newClient returns the client -check uses when none is given.
func newClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second}
}

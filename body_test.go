package apigate

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// stallingBody returns its data, then blocks until release is closed.
type stallingBody struct {
	data    []byte
	stalled *sync.WaitGroup
	release chan struct{}
	once    sync.Once
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	b.once.Do(b.stalled.Done)
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

func (b *stallingBody) Close() error { return nil }

// TestReadBodyGrowsWithWhatArrives checks that a client declaring a large
// Content-Length costs memory for what it sent, not for what it declared:
// requests that declare 2 MiB, send 100 bytes and stall must not hold
// 2 MiB each.
func TestReadBodyGrowsWithWhatArrives(t *testing.T) {
	const clients, declared = 20, 2 << 20
	var stalled sync.WaitGroup
	release := make(chan struct{})
	reqs := make([]*http.Request, clients)
	for i := range reqs {
		r := httptest.NewRequest("POST", "/x", nil)
		r.ContentLength = declared
		r.Body = &stallingBody{data: bytes.Repeat([]byte("a"), 100), stalled: &stalled, release: release}
		reqs[i] = r
	}
	stalled.Add(clients)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var done sync.WaitGroup
	for _, r := range reqs {
		done.Go(func() {
			if _, err := readBody(r, DefaultBodyLimit); err == nil {
				t.Error("readBody of a cut body succeeded")
			}
		})
	}
	stalled.Wait()
	runtime.ReadMemStats(&after)
	close(release)
	done.Wait()
	// 20 × 2 MiB if the declared length is allocated up front; a few
	// KiB each when the buffer grows with the data.
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(clients*128<<10); got > limit {
		t.Errorf("%d stalled requests of 100 bytes allocated %d bytes, want at most %d", clients, got, limit)
	}
}

// TestReadBody checks readBody's results against the body sent, with and
// without a declared length, read in one piece or a byte at a time.
func TestReadBody(t *testing.T) {
	const limit = 40 << 10
	tests := []struct {
		name     string
		size     int
		declared int64 // -1: unknown
		tooLarge bool
	}{
		{"empty", 0, 0, false},
		{"small", 10, 10, false},
		{"small unknown length", 10, -1, false},
		{"larger than the first buffer", 30 << 10, 30 << 10, false},
		{"larger than the first buffer, unknown length", 30 << 10, -1, false},
		{"at the limit", limit, limit, false},
		{"at the limit, unknown length", limit, -1, false},
		{"over the limit, unknown length", limit + 1, -1, true},
		{"declared over the limit", 10, limit + 1, true},
	}
	for _, tt := range tests {
		for _, oneByte := range []bool{false, true} {
			name := tt.name
			if oneByte {
				name += ", one byte at a time"
			}
			t.Run(name, func(t *testing.T) {
				want := strings.Repeat("0123456789", tt.size/10+1)[:tt.size]
				var rd io.Reader = strings.NewReader(want)
				if oneByte {
					rd = iotest.OneByteReader(rd)
				}
				r := httptest.NewRequest("POST", "/x", nil)
				r.Body, r.ContentLength = io.NopCloser(rd), tt.declared
				got, err := readBody(r, limit)
				var e *Error
				switch {
				case tt.tooLarge:
					if !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
						t.Fatalf("err = %v, want 413", err)
					}
				case err != nil:
					t.Fatalf("err = %v", err)
				case string(got) != want:
					t.Fatalf("got %d bytes, want %d (equal: %v)", len(got), len(want), string(got) == want)
				}
			})
		}
	}
}

// eofReader returns io.EOF with the last bytes, as net/http's request
// bodies do.
type eofReader struct{ *bytes.Reader }

func (r eofReader) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == nil && r.Len() == 0 {
		err = io.EOF
	}
	return n, err
}

// BenchmarkReadBody reads bodies of a declared length, as JSON and form
// routes do.
func BenchmarkReadBody(b *testing.B) {
	for _, size := range []int{40, 4 << 10, 64 << 10, 1 << 20} {
		data := bytes.Repeat([]byte("a"), size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			r := httptest.NewRequest("POST", "/x", nil)
			rd := bytes.NewReader(data)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				rd.Reset(data)
				r.Body, r.ContentLength = io.NopCloser(eofReader{rd}), int64(size)
				if _, err := readBody(r, DefaultBodyLimit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

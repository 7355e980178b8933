package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/valyala/fasthttp"
)

// bridged serves h through the bridge, on a real fasthttp server and
// listener, and returns its URL.
func bridged(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	s := &Server{handler: h, log: slog.New(slog.DiscardHandler)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: s.bridge, NoDefaultServerHeader: true, NoDefaultContentType: true}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// answer is what send read of a response.
type answer struct {
	StatusCode int
	Header     http.Header
	Close      bool
}

func send(t *testing.T, method, url, body string, header http.Header) (answer, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, res.Close}, string(b)
}

func TestBridgeRequest(t *testing.T) {
	type seen struct {
		method, uri, path, query, host, remote, proto string
		header                                        http.Header
		body                                          string
		length                                        int64
	}
	var got seen
	url := bridged(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.RequestURI, r.URL.Path, r.URL.RawQuery, r.Host, r.RemoteAddr, r.Proto, r.Header, string(b), r.ContentLength}
		w.WriteHeader(http.StatusNoContent)
	})
	res, _ := send(t, "POST", url+"/login?next=%2Faccount&x=1", "email=a%40b.example",
		http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"},
			"Cookie":       {"sk_session=abc; theme=dark"},
			"X-Forwarded":  {"one", "two"},
		})
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", res.StatusCode)
	}
	if got.method != "POST" || got.uri != "/login?next=%2Faccount&x=1" || got.path != "/login" || got.query != "next=%2Faccount&x=1" ||
		!strings.HasPrefix(got.host, "127.0.0.1:") || !strings.HasPrefix(got.remote, "127.0.0.1:") || got.proto != "HTTP/1.1" {
		t.Errorf("request %+v", got)
	}
	if got.body != "email=a%40b.example" || got.length != int64(len(got.body)) {
		t.Errorf("body %q, length %d", got.body, got.length)
	}
	if got.header.Get("Content-Type") != "application/x-www-form-urlencoded" || got.header.Get("Cookie") != "sk_session=abc; theme=dark" ||
		!slices.Equal(got.header["X-Forwarded"], []string{"one", "two"}) {
		t.Errorf("header %v", got.header)
	}
	for _, k := range []string{"Host", "Connection", "Transfer-Encoding"} {
		if _, ok := got.header[k]; ok {
			t.Errorf("header %s is in the map, as net/http never puts it", k)
		}
	}
}

// TestBridgeOwnsItsStrings: what a handler keeps of a request is not
// changed by the requests that follow on the same connection, whose bytes
// fasthttp reads into the same buffers.
func TestBridgeOwnsItsStrings(t *testing.T) {
	var mu sync.Mutex
	var kept []string
	url := bridged(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		kept = append(kept, r.Method, r.URL.Path, r.Header.Get("User-Agent")) // as they are, not copies
		mu.Unlock()
	})
	var want []string
	for _, ua := range []string{"first-agent", "second-agent-is-longer", "x"} {
		send(t, "GET", url+"/p-"+ua, "", http.Header{"User-Agent": {ua}})
		want = append(want, "GET", "/p-"+ua, ua)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(kept, want) {
		t.Errorf("kept %q, want %q", kept, want)
	}
}

func TestBridgeResponse(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		status  int
		header  http.Header // each must be there, as given
		absent  []string
		body    string
	}{
		{
			name: "headers as at WriteHeader",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Header().Add("Set-Cookie", "a=1; Path=/; HttpOnly; SameSite=Lax")
				w.Header().Add("Set-Cookie", "b=2; Path=/account; Max-Age=0")
				w.Header().Set("Content-Length", "999") // fasthttp frames the answer
				w.WriteHeader(http.StatusSeeOther)
				w.Header().Set("X-Late", "not sent")
				_, _ = io.WriteString(w, "<p>moved</p>")
			},
			status: http.StatusSeeOther,
			header: http.Header{
				"Content-Type": {"text/html; charset=utf-8"},
				"Set-Cookie":   {"a=1; Path=/; HttpOnly; SameSite=Lax", "b=2; Path=/account; Max-Age=0"},
			},
			absent: []string{"X-Late"},
			body:   "<p>moved</p>",
		},
		{
			name: "no WriteHeader",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "<!doctype html><title>x</title>")
			},
			status: http.StatusOK,
			header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, // sniffed, as net/http does
			body:   "<!doctype html><title>x</title>",
		},
		{
			name: "nothing written",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Only", "header")
			},
			status: http.StatusOK,
			header: http.Header{"X-Only": {"header"}},
			absent: []string{"Content-Type"},
		},
		{
			name: "no body with 304",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNotModified)
				if _, err := io.WriteString(w, "dropped"); !errors.Is(err, http.ErrBodyNotAllowed) {
					panic("a 304 took a body")
				}
			},
			status: http.StatusNotModified,
		},
		{
			name: "the first status wins",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusTeapot)
				w.WriteHeader(http.StatusOK)
			},
			status: http.StatusTeapot,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := send(t, "GET", bridged(t, tt.handler)+"/", "", nil)
			if res.StatusCode != tt.status {
				t.Errorf("status %d, want %d", res.StatusCode, tt.status)
			}
			for k, want := range tt.header {
				if got := res.Header[k]; !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			for _, k := range tt.absent {
				if v, ok := res.Header[k]; ok {
					t.Errorf("%s = %q, want none", k, v)
				}
			}
			if body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
		})
	}
}

// TestBridgeAbort: a handler that gives up with http.ErrAbortHandler sends
// nothing; the connection closes.
func TestBridgeAbort(t *testing.T) {
	url := bridged(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Partial", "yes")
		panic(http.ErrAbortHandler)
	})
	res, _ := send(t, "GET", url+"/", "", nil)
	if res.StatusCode != http.StatusInternalServerError || res.Header.Get("X-Partial") != "" || !res.Close {
		t.Errorf("status %d, header %v, close %v", res.StatusCode, res.Header, res.Close)
	}
}

// TestNativePanic: a panic in a fasthttp handler is answered 500 naming the
// request, logged with its stack, and counted; the server goes on.
func TestNativePanic(t *testing.T) {
	var logs strings.Builder
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil)), metrics: newMetrics()}
	var c fasthttp.RequestCtx
	var req fasthttp.Request
	req.SetRequestURI("http://storekey.test/api/v1/store")
	c.Init(&req, nil, nil)
	s.native(&c, "GET /api/v1/store", func(c *fasthttp.RequestCtx) {
		c.Response.Header.Set("X-Half", "written")
		panic("boom")
	})
	id := string(c.Response.Header.Peek(requestIDHeader))
	if c.Response.StatusCode() != http.StatusInternalServerError || id == "" ||
		string(c.Response.Body()) != "internal server error (request "+id+")\n" || len(c.Response.Header.Peek("X-Half")) != 0 {
		t.Errorf("answer %d, id %q, body %q, X-Half %q", c.Response.StatusCode(), id, c.Response.Body(), c.Response.Header.Peek("X-Half"))
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "request_id="+id) || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log %q", logs.String())
	}
	var m dto.Metric
	if err := s.metrics.requests.WithLabelValues("GET /api/v1/store", "500").Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		t.Errorf("counted %v (%v)", m.GetCounter().GetValue(), err)
	}
}

// TestBridgePanic: a panic that reaches the bridge (instrument, in front of
// every net/http route, recovers the handlers' own) is answered 500, and the
// server goes on: fasthttp would not recover it.
func TestBridgePanic(t *testing.T) {
	calls := 0
	url := bridged(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	res, body := send(t, "GET", url+"/", "", nil)
	if res.StatusCode != http.StatusInternalServerError || strings.Contains(body, "boom") || strings.Contains(body, "goroutine") {
		t.Errorf("first: %d %q", res.StatusCode, body)
	}
	if res, _ := send(t, "GET", url+"/", "", nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("after: %d", res.StatusCode)
	}
}

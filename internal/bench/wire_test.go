package bench

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wireServer is a real net/http server whose handlers answer in each of the
// ways the Conn must read: sized, chunked, empty, closing.
func wireServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sized", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/next?x=1")
		_, _ = io.WriteString(w, "sized "+r.Header.Get("Authorization")+" "+r.Header.Get("Cookie"))
	})
	mux.HandleFunc("GET /chunked", func(w http.ResponseWriter, _ *http.Request) {
		for i := range 3 {
			_, _ = io.WriteString(w, strings.Repeat(string(rune('a'+i)), 5000))
			w.(http.Flusher).Flush() // forces Transfer-Encoding: chunked
		}
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /close", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "bye")
	})
	mux.HandleFunc("POST /form", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "not a form", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/done?a="+r.PostForm.Get("a")+"&origin="+r.Header.Get("Origin"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /prefix/sized", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "prefixed "+r.URL.RawQuery) })
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestConnReadsEveryKindOfAnswer(t *testing.T) {
	srv, conns := wireServer(t)
	w, err := NewWire(srv.URL, "storekey_session=s1")
	if err != nil {
		t.Fatal(err)
	}
	c := w.Conn()
	defer c.Close()
	ctx := context.Background()

	r, err := c.Get(ctx, "/sized", "Bearer t1", "sized")
	if err != nil || r.status != 200 || string(r.body) != "sized Bearer t1 storekey_session=s1" || r.location != "/next?x=1" {
		t.Fatalf("sized: %d %q %q %v", r.status, r.body, r.location, err)
	}
	r, err = c.Get(ctx, "/chunked", "", "chunked")
	want := strings.Repeat("a", 5000) + strings.Repeat("b", 5000) + strings.Repeat("c", 5000)
	if err != nil || r.status != 200 || string(r.body) != want {
		t.Fatalf("chunked: %d, %d bytes, %v", r.status, len(r.body), err)
	}
	r, err = c.Get(ctx, "/empty", "", "empty")
	if err != nil || r.status != 204 || len(r.body) != 0 {
		t.Fatalf("empty: %d %q %v", r.status, r.body, err)
	}
	r, err = c.Do(ctx, "POST", "/form", "", "http://example.test", "a=b+c", "form")
	if err != nil || r.status != 303 || r.location != "/done?a=b c&origin=http://example.test" {
		t.Fatalf("form: %d %q %v", r.status, r.location, err)
	}
	r, err = c.Get(ctx, srv.URL+"/sized", "", "absolute")
	if err != nil || r.status != 200 || !strings.HasPrefix(string(r.body), "sized") {
		t.Fatalf("absolute URL: %d %q %v", r.status, r.body, err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for five keep-alive requests, want 1", n)
	}

	// Connection: close ends the connection after the answer; the next
	// request dials again.
	if r, err = c.Get(ctx, "/close", "", "close"); err != nil || string(r.body) != "bye" {
		t.Fatalf("close: %q %v", r.body, err)
	}
	if r, err = c.Get(ctx, "/sized", "", "sized"); err != nil || r.status != 200 {
		t.Fatalf("after close: %d %v", r.status, err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (one redial after Connection: close)", n)
	}
}

func TestConnBaseURLPath(t *testing.T) {
	srv, _ := wireServer(t)
	w, err := NewWire(srv.URL+"/prefix/", "")
	if err != nil {
		t.Fatal(err)
	}
	c := w.Conn()
	defer c.Close()
	r, err := c.Get(context.Background(), "/sized?q=1", "", "prefixed")
	if err != nil || string(r.body) != "prefixed q=1" {
		t.Fatalf("%d %q %v", r.status, r.body, err)
	}
	// An absolute URL already carries the base's path.
	r, err = c.Get(context.Background(), srv.URL+"/prefix/sized?q=2", "", "prefixed")
	if err != nil || string(r.body) != "prefixed q=2" {
		t.Fatalf("%d %q %v", r.status, r.body, err)
	}
	if _, err := c.Get(context.Background(), "::not a URL", "", "bad"); err == nil {
		t.Fatal("a request to a bad URL did not fail")
	}
}

// A keep-alive connection the server closed while idle is dialled again,
// and the request still gets its answer.
func TestConnRedialsAfterIdleClose(t *testing.T) {
	srv, conns := wireServer(t)
	w, _ := NewWire(srv.URL, "")
	c := w.Conn()
	defer c.Close()
	if _, err := c.Get(context.Background(), "/sized", "", "sized"); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections()
	r, err := c.Get(context.Background(), "/sized", "", "sized")
	if err != nil || r.status != 200 {
		t.Fatalf("after the server closed the idle connection: %d %v", r.status, err)
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// Ending the context ends an exchange in flight with a transport error.
func TestConnContextEndsExchange(t *testing.T) {
	srv, _ := wireServer(t)
	w, _ := NewWire(srv.URL, "")
	c := w.Conn()
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, "/slow", "", "slow")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the request reach the handler; the test passes either way
	cancel()
	select {
	case err := <-done:
		if !isTransport(err) {
			t.Fatalf("got %v, want a transport error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the exchange went on after its context ended")
	}
}

// Answers that are not HTTP/1.1 are transport errors, never a panic or a
// made-up status.
func TestConnMalformedAnswers(t *testing.T) {
	for _, answer := range []string{
		"garbage\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"",
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			for { // read the request's head
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
			}
			_, _ = io.WriteString(conn, answer)
		}()
		w, _ := NewWire("http://"+ln.Addr().String(), "")
		c := w.Conn()
		_, err = c.Get(context.Background(), "/", "", "malformed")
		var e *Error
		if !errors.As(err, &e) || e.Code != "transport" {
			t.Errorf("answer %q: got %v, want a transport error", answer, err)
		}
		c.Close()
		ln.Close()
	}
}

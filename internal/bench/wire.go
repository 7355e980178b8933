package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The measured requests go through a lean HTTP/1.1 client of the bench's
// own rather than net/http's: the load generator shares the machine's cores
// with the server, and net/http's client spends about as much CPU per
// request as the server does (a request and header maps per call, and
// three goroutines handing each exchange along: the caller's, the
// connection's reader and its writer). A Conn writes the request and reads
// the whole answer on the calling goroutine, over one keep-alive
// connection, reusing its buffers. It speaks just what the bench needs of
// HTTP/1.1 (RFC 9112): GET and form POSTs, bodies sized by Content-Length,
// chunked or ended by the connection's close, and Connection: close.

// requestTimeout bounds one exchange, as the net/http client's Timeout did.
const requestTimeout = 60 * time.Second

// Wire makes connections to one server for the bench's workers.
type Wire struct {
	addr    string      // host:port to dial
	host    string      // the Host header
	prefix  string      // the base URL's path, put before every path
	tls     *tls.Config // nil for http
	cookie  string      // sent as the Cookie header when not empty
	userAgt string
}

// NewWire returns a Wire for the server at base, an http(s) URL. cookie,
// when not empty, is sent as the Cookie header of every request.
func NewWire(base, cookie string) (*Wire, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bench: bad server URL %q", base)
	}
	w := &Wire{host: u.Host, prefix: strings.TrimRight(u.EscapedPath(), "/"), cookie: cookie, userAgt: "storekey-bench"}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	w.addr = net.JoinHostPort(u.Hostname(), port)
	if u.Scheme == "https" {
		w.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	}
	return w, nil
}

// Conn returns a connection of its own for one worker. It dials on first
// use and again whenever the server closed the previous connection. A Conn
// is not safe for concurrent use.
func (w *Wire) Conn() *Conn { return &Conn{w: w} }

// Conn is one worker's keep-alive connection.
type Conn struct {
	w    *Wire
	c    net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte

	ctx  context.Context // the context whose end closes c
	stop func() bool
}

// Close closes the connection, if open.
func (c *Conn) Close() {
	if c.stop != nil {
		c.stop()
		c.stop, c.ctx = nil, nil
	}
	if c.c != nil {
		_ = c.c.Close() // nothing is left to read or write on it
		c.c = nil
	}
}

// Get sends a GET of path (with its query; relative to the Wire's base
// URL, or an absolute URL on the same server) with an optional
// Authorization header and reads the whole answer. The answer's body is
// valid until the next call.
func (c *Conn) Get(ctx context.Context, path, auth, stepName string) (response, error) {
	return c.Do(ctx, "GET", path, auth, "", "", stepName)
}

// PostForm sends an application/x-www-form-urlencoded POST.
func (c *Conn) PostForm(ctx context.Context, path, auth, body, stepName string) (response, error) {
	return c.Do(ctx, "POST", path, auth, "", body, stepName)
}

// Do sends one request and reads its whole answer. origin, when not empty,
// is sent as the Origin header (as a browser posting a form does); a
// non-empty body is sent as a form. A failure to get an answer is an *Error
// with Status 0 and Code "transport"; the connection is then closed, and
// the next call dials again.
func (c *Conn) Do(ctx context.Context, method, path, auth, origin, body, stepName string) (response, error) {
	if !strings.HasPrefix(path, "/") {
		// An absolute URL, as a form's action may be: its path and query.
		u, err := url.Parse(path)
		if err != nil || !u.IsAbs() {
			return response{}, unexpected(stepName, "cannot request %q", truncate(path, 120))
		}
		path = u.RequestURI()
	} else if c.w.prefix != "" {
		path = c.w.prefix + path
	}
	c.req = c.appendRequest(c.req[:0], method, path, auth, origin, body)
	reused := c.c != nil
	r, got, err := c.roundTrip(ctx)
	if err != nil && reused && !got && ctx.Err() == nil {
		// The server may close an idle keep-alive connection just as we
		// reuse it; as net/http does, try once more on a fresh one when no
		// byte of an answer came back.
		c.Close()
		r, _, err = c.roundTrip(ctx)
	}
	if err != nil {
		c.Close()
		return response{}, &Error{Step: stepName, Code: "transport", Detail: err.Error()}
	}
	return r, nil
}

func (c *Conn) appendRequest(b []byte, method, path, auth, origin, body string) []byte {
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, path...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, c.w.host...)
	b = append(b, "\r\nUser-Agent: "...)
	b = append(b, c.w.userAgt...)
	b = append(b, "\r\n"...)
	if auth != "" {
		b = append(b, "Authorization: "...)
		b = append(b, auth...)
		b = append(b, "\r\n"...)
	}
	if c.w.cookie != "" {
		b = append(b, "Cookie: "...)
		b = append(b, c.w.cookie...)
		b = append(b, "\r\n"...)
	}
	if origin != "" {
		b = append(b, "Origin: "...)
		b = append(b, origin...)
		b = append(b, "\r\n"...)
	}
	if body != "" || method == "POST" {
		b = append(b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// roundTrip writes c.req and reads the answer; got reports whether any
// byte of an answer arrived.
func (c *Conn) roundTrip(ctx context.Context) (r response, got bool, err error) {
	if err := c.dial(ctx); err != nil {
		return response{}, false, err
	}
	if err := c.c.SetDeadline(time.Now().Add(requestTimeout)); err != nil {
		return response{}, false, err
	}
	if _, err := c.c.Write(c.req); err != nil {
		return response{}, false, err
	}
	return c.readResponse()
}

// dial connects, unless connected, and ties the connection to ctx: when
// ctx ends, the connection is closed, which ends an exchange in flight.
func (c *Conn) dial(ctx context.Context) error {
	if c.c != nil && c.ctx == ctx {
		return nil
	}
	if c.c == nil {
		d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		conn, err := d.DialContext(ctx, "tcp", c.w.addr)
		if err != nil {
			return err
		}
		if c.w.tls != nil {
			tc := tls.Client(conn, c.w.tls)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close() // the handshake failed; the error says why
				return err
			}
			conn = tc
		}
		c.c = conn
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 8<<10)
		} else {
			c.br.Reset(conn)
		}
	}
	if c.stop != nil {
		c.stop()
	}
	conn := c.c
	c.ctx = ctx
	c.stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	return nil
}

var errMalformed = errors.New("malformed HTTP response")

// readResponse reads one answer: its status line, the headers the bench
// looks at, and the whole body into c.body.
func (c *Conn) readResponse() (r response, got bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if len(line) > 0 {
		got = true
	}
	if err != nil {
		return r, got, fmt.Errorf("read status line: %w", err)
	}
	// HTTP/1.1 200 OK
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return r, got, fmt.Errorf("%w: status line %q", errMalformed, truncate(string(line), 60))
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil || status < 100 {
		return r, got, fmt.Errorf("%w: status line %q", errMalformed, truncate(string(line), 60))
	}
	r.status = status
	length, chunked, closing := int64(-1), false, line[7] == '0'
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return r, got, fmt.Errorf("read headers: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return r, got, fmt.Errorf("%w: header line %q", errMalformed, truncate(string(line), 60))
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return r, got, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = asciiEqualFold(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			closing = closing || asciiEqualFold(value, "close")
		case asciiEqualFold(name, "Location"):
			r.location = string(value)
		}
	}
	c.body = c.body[:0]
	switch {
	case status/100 == 1:
		// An interim answer (100 Continue): the bench sends no
		// Expect header, so a server that sends one anyway is wrong.
		return r, got, fmt.Errorf("%w: unexpected interim status %d", errMalformed, status)
	case status == 204 || status == 304:
	case chunked:
		b := bytes.NewBuffer(c.body)
		if _, err := b.ReadFrom(httputil.NewChunkedReader(c.br)); err != nil {
			return r, got, fmt.Errorf("read chunked body: %w", err)
		}
		// The trailer section ends with an empty line.
		for {
			line, err := c.br.ReadSlice('\n')
			if err != nil {
				return r, got, fmt.Errorf("read trailers: %w", err)
			}
			if len(bytes.TrimRight(line, "\r\n")) == 0 {
				break
			}
		}
		c.body = b.Bytes()
	case length >= 0:
		if int64(cap(c.body)) < length {
			c.body = make([]byte, length)
		}
		c.body = c.body[:length]
		if _, err := io.ReadFull(c.br, c.body); err != nil {
			return r, got, fmt.Errorf("read body: %w", err)
		}
	default:
		b := bytes.NewBuffer(c.body)
		if _, err := b.ReadFrom(c.br); err != nil {
			return r, got, fmt.Errorf("read body: %w", err)
		}
		c.body, closing = b.Bytes(), true
	}
	r.body = c.body
	if closing {
		c.Close()
	}
	return r, got, nil
}

// asciiEqualFold reports whether b equals s, ignoring ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

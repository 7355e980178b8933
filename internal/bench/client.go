package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CheckURL parses a server base URL and refuses one whose host is not a
// loopback address (127.0.0.0/8, ::1 or localhost) unless allowRemote is
// set: a load generator pointed at someone else's server is an attack.
func CheckURL(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q is not an http(s) base URL", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--url %q must be a base URL, without user info, query or fragment", raw)
	}
	if !allowRemote && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("--url %q is not a loopback address; pass --allow-remote to load a server elsewhere", raw)
	}
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newHTTPClient returns a client made for load: one transport that keeps
// up to concurrency idle connections to the server alive, never goes
// through a proxy, never asks for compression, and never follows redirects
// (the redirects of an authorization flow are what the flow inspects). jar
// may be nil.
func newHTTPClient(concurrency int, jar http.CookieJar) *http.Client {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * concurrency,
		MaxIdleConnsPerHost:   concurrency,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
	}
	return &http.Client{
		Transport:     t,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       60 * time.Second,
	}
}

// BasicAuth returns the Authorization header value of client_secret_basic:
// the id and secret form-encoded, then joined and base64-encoded
// (RFC 6749 §2.3.1).
func BasicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// response is what an op keeps of an answer: the body is read whole into
// the worker's buffer and the connection goes back to the pool.
type response struct {
	status   int
	location string
	body     []byte // valid until the buffer is reused
}

// do sends req and reads the whole body into buf. A failure to get an
// answer is an *Error with Status 0 and Code "transport".
func do(c *http.Client, req *http.Request, stepName string, buf *bytes.Buffer) (response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return response{}, &Error{Step: stepName, Code: "transport", Detail: err.Error()}
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	_ = resp.Body.Close() // the body was read whole; a close error changes nothing
	if err != nil {
		return response{}, &Error{Step: stepName, Code: "transport", Detail: "read body: " + err.Error()}
	}
	return response{status: resp.StatusCode, location: resp.Header.Get("Location"), body: buf.Bytes()}, nil
}

// get sends a GET with an optional Authorization header.
func get(ctx context.Context, c *http.Client, target, auth, stepName string, buf *bytes.Buffer) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return response{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return do(c, req, stepName, buf)
}

// statusError turns an answer with an unexpected status into an *Error,
// taking the OAuth error code and description from a JSON body when there
// is one (RFC 6749 §5.2).
func statusError(stepName string, r response) *Error {
	e := &Error{Step: stepName, Status: r.status, Detail: http.StatusText(r.status)}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(r.body, &body) == nil && body.Error != "" {
		e.Code, e.Detail = body.Error, body.Description
	} else if s := strings.TrimSpace(string(r.body)); s != "" {
		e.Detail = s
	}
	return e
}

// unexpected is an *Error for an answer with the right status and the
// wrong content.
func unexpected(stepName, format string, args ...any) *Error {
	return &Error{Step: stepName, Code: "unexpected", Detail: fmt.Sprintf(format, args...)}
}

// tokenResponse is the part of an RFC 6749 §5.1 token response the bench
// reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func readToken(stepName string, r response) (tokenResponse, error) {
	if r.status != http.StatusOK {
		return tokenResponse{}, statusError(stepName, r)
	}
	var t tokenResponse
	if err := json.Unmarshal(r.body, &t); err != nil || t.AccessToken == "" {
		return t, unexpected(stepName, "the token response has no access_token: %s", truncate(string(r.body), 120))
	}
	return t, nil
}

// isTransport reports whether err is a failure to get any HTTP answer.
func isTransport(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == "transport"
}

// Command tlspeer is the repository's own real Go peer for the interop tests: a net/http TLS
// client and server built from the standard library alone, so the fakes' Go wording can be
// held against what Go itself prints for the same certificates.
//
//	tlspeer client < requests.json   one JSON result line per request, in input order
//	tlspeer server < servers.json    one JSON line per listener, then one per ErrorLog line
//
// Only the standard library: the tests build it with Debian's golang-1.19-go, offline.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// Request is one HTTPS GET as an Elastic Agent would make it with Go's own verification.
type Request struct {
	URL string `json:"url"`
	// Connect, when set, is where to dial instead of the URL's host (as curl --resolve).
	Connect    string   `json:"connect,omitempty"`
	CAs        []string `json:"cas,omitempty"`
	Cert       string   `json:"cert,omitempty"`
	Key        string   `json:"key,omitempty"`
	MinVersion string   `json:"minVersion,omitempty"`
	MaxVersion string   `json:"maxVersion,omitempty"`
	// AlwaysSend presents the certificate whatever CAs the server lists (curl's habit), through
	// GetClientCertificate; by default Go withholds one the server's CA list does not cover.
	AlwaysSend bool `json:"alwaysSend,omitempty"`
	// Proxy is Transport.Proxy's URL (http, https or socks5), as libs' proxy_url sets it;
	// ProxyHeaders go on the CONNECT request (libs' proxy_headers).
	Proxy        string            `json:"proxy,omitempty"`
	ProxyHeaders map[string]string `json:"proxyHeaders,omitempty"`
	// TimeoutMs is http.Client.Timeout (default 10 s); ResponseHeaderTimeoutMs is the
	// Transport's ResponseHeaderTimeout, as Fleet Server sets it for Elasticsearch.
	TimeoutMs               int `json:"timeoutMs,omitempty"`
	ResponseHeaderTimeoutMs int `json:"responseHeaderTimeoutMs,omitempty"`
}

type Result struct {
	Status int    `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
	// Error is err.Error() as the program using net/http sees it; Unwrapped drops *url.Error.
	Error     string `json:"error,omitempty"`
	Unwrapped string `json:"unwrapped,omitempty"`
	LocalPort int    `json:"localPort,omitempty"`
	Version   string `json:"version,omitempty"`
}

// Server is one net/http TLS listener on 127.0.0.1.
type Server struct {
	Name       string   `json:"name"`
	Cert       string   `json:"cert"`
	Key        string   `json:"key"`
	ClientCAs  []string `json:"clientCAs,omitempty"`
	ClientAuth string   `json:"clientAuth,omitempty"` // none, optional, required
	MinVersion string   `json:"minVersion,omitempty"`
	MaxVersion string   `json:"maxVersion,omitempty"`
}

var versions = map[string]uint16{"": 0, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "client" && os.Args[1] != "server") {
		fmt.Fprintln(os.Stderr, "usage: tlspeer client|server < config.json")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	emit := func(v any) {
		mu.Lock()
		defer mu.Unlock()
		if err := out.Encode(v); err != nil {
			os.Exit(1)
		}
	}
	if os.Args[1] == "client" {
		var requests []Request
		must(json.NewDecoder(os.Stdin).Decode(&requests))
		results := make([]Result, len(requests))
		var wg sync.WaitGroup
		for i := range requests {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				results[i] = get(requests[i])
			}(i)
		}
		wg.Wait()
		for _, r := range results {
			emit(r)
		}
		return
	}
	var servers []Server
	must(json.NewDecoder(os.Stdin).Decode(&servers))
	for _, s := range servers {
		serve(s, emit)
	}
	// Runs until stdin closes, so the test's exit stops it.
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlspeer:", err)
		os.Exit(2)
	}
}

func pool(files []string) *x509.CertPool {
	if len(files) == 0 {
		return nil
	}
	p := x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		must(err)
		if !p.AppendCertsFromPEM(pem) {
			must(fmt.Errorf("%s: no certificate", f))
		}
	}
	return p
}

func get(r Request) Result {
	cfg := &tls.Config{RootCAs: pool(r.CAs), MinVersion: versions[r.MinVersion], MaxVersion: versions[r.MaxVersion]}
	if r.Cert != "" {
		pair, err := tls.LoadX509KeyPair(r.Cert, r.Key)
		must(err)
		if r.AlwaysSend {
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
		} else {
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	var result Result
	var local sync.Mutex
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		TLSClientConfig: cfg,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if r.Connect != "" {
				addr = r.Connect
			}
			conn, err := dialer.DialContext(ctx, network, addr)
			if err == nil {
				local.Lock()
				result.LocalPort = conn.LocalAddr().(*net.TCPAddr).Port
				local.Unlock()
			}
			return conn, err
		},
	}
	if r.Proxy != "" {
		proxyURL, err := url.Parse(r.Proxy)
		must(err)
		transport.Proxy = http.ProxyURL(proxyURL)
		transport.ProxyConnectHeader = http.Header{}
		for k, v := range r.ProxyHeaders {
			transport.ProxyConnectHeader.Set(k, v)
		}
	}
	transport.ResponseHeaderTimeout = time.Duration(r.ResponseHeaderTimeoutMs) * time.Millisecond
	defer transport.CloseIdleConnections()
	timeout := 10 * time.Second
	if r.TimeoutMs > 0 {
		timeout = time.Duration(r.TimeoutMs) * time.Millisecond
	}
	client := &http.Client{Transport: transport, Timeout: timeout}
	resp, err := client.Get(r.URL)
	local.Lock()
	defer local.Unlock()
	if err != nil {
		result.Error = err.Error()
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			result.Unwrapped = urlErr.Err.Error()
		} else {
			result.Unwrapped = err.Error()
		}
		return result
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		result.Error = err.Error()
		result.Unwrapped = err.Error()
	}
	result.Status = resp.StatusCode
	result.Body = string(body)
	if resp.TLS != nil {
		result.Version = map[uint16]string{tls.VersionTLS12: "1.2", tls.VersionTLS13: "1.3"}[resp.TLS.Version]
	}
	return result
}

// logLine forwards net/http's ErrorLog, one JSON line per message, tagged with the listener.
type logLine struct {
	name string
	emit func(any)
}

func (l logLine) Write(p []byte) (int, error) {
	l.emit(map[string]string{"event": "log", "name": l.name, "line": strings.TrimRight(string(p), "\n")})
	return len(p), nil
}

func serve(s Server, emit func(any)) {
	pair, err := tls.LoadX509KeyPair(s.Cert, s.Key)
	must(err)
	auth := map[string]tls.ClientAuthType{"": tls.NoClientCert, "none": tls.NoClientCert,
		"optional": tls.VerifyClientCertIfGiven, "required": tls.RequireAndVerifyClientCert}[s.ClientAuth]
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair}, ClientCAs: pool(s.ClientCAs), ClientAuth: auth,
		MinVersion: versions[s.MinVersion], MaxVersion: versions[s.MaxVersion],
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	server := &http.Server{
		TLSConfig: cfg,
		// No prefix or flags: the bare line net/http writes, as Fleet Server's logger receives it.
		ErrorLog: log.New(logLine{s.Name, emit}, "", 0),
		// net/http logs a failed handshake before it closes the connection (conn.serve's deferred
		// close): a test that reads this event knows every line about the connection is written.
		ConnState: func(c net.Conn, state http.ConnState) {
			if state == http.StateClosed || state == http.StateHijacked {
				emit(map[string]any{"event": "closed", "name": s.Name, "port": c.RemoteAddr().(*net.TCPAddr).Port})
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			subject := "none"
			if req.TLS != nil && len(req.TLS.PeerCertificates) > 0 {
				subject = req.TLS.PeerCertificates[0].Subject.CommonName
			}
			fmt.Fprintf(w, "client certificate: %s\n", subject)
		}),
	}
	go func() { _ = server.ServeTLS(listener, "", "") }()
	emit(map[string]any{"event": "listening", "name": s.Name, "port": listener.Addr().(*net.TCPAddr).Port})
}

package redisdedup_test

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a TCP proxy on a loopback port in front of a redis-server, that
// a test can make behave as a bad network does: Stall holds every byte
// (both ways) until Resume, and DropNextReply closes the connection instead
// of passing the server's next answer on, so that the command ran but its
// client never hears so.
type proxy struct {
	t       testing.TB
	l       net.Listener
	target  string
	closed  chan struct{}
	wg      sync.WaitGroup
	dropped atomic.Int32 // answers dropped

	mu    sync.Mutex
	open  chan struct{} // closed while traffic flows
	drop  bool
	conns []net.Conn
}

// startProxy starts a proxy to target for t, closed when t ends.
func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, l: l, target: target, closed: make(chan struct{}), open: make(chan struct{})}
	close(p.open)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *proxy) Addr() string { return p.l.Addr().String() }

// Stall holds all traffic, on open and new connections, until Resume.
func (p *proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
		p.open = make(chan struct{})
	default: // already stalled
	}
}

// Resume passes on what Stall held, and everything after.
func (p *proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
}

// DropNextReply makes the next answer from the server close its connection
// instead of reaching the client.
func (p *proxy) DropNextReply() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = true
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(s, c, false)
		go p.pipe(c, s, true)
	}
}

// pipe copies from src to dst, chunk by chunk, holding each chunk while
// the proxy stalls; on a reply (from the server) it may drop it instead.
func (p *proxy) pipe(dst, src net.Conn, reply bool) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			open, drop := p.open, reply && p.drop
			if drop {
				p.drop = false
			}
			p.mu.Unlock()
			if drop {
				p.dropped.Add(1)
				return
			}
			select {
			case <-open:
			case <-p.closed:
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.t.Logf("proxy: %v", err)
			}
			return
		}
	}
}

func (p *proxy) close() {
	close(p.closed)
	p.l.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

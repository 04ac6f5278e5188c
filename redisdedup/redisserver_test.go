package redisdedup_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// requireRedisEnv, when set (.ci/run sets it), makes a missing redis-server
// a failure instead of a skip.
const requireRedisEnv = "BUSIFAVOR_REQUIRE_REDIS"

// redisServer is a real redis-server that a test starts on a free loopback
// port, with persistence off, in a temporary directory.
type redisServer struct {
	t    testing.TB
	path string
	dir  string
	port int
	args []string // more arguments for redis-server (a cluster node's)
	cmd  *exec.Cmd
}

// startRedis starts a redis-server for t, with more arguments for it if
// given (--maxmemory-policy …), and stops it when t ends. Without
// redis-server on PATH the test is skipped (or fails under .ci/run).
func startRedis(t *testing.T, args ...string) *redisServer { return startRedisTB(t, args...) }

// startRedisB is startRedis for a benchmark.
func startRedisB(b *testing.B) *redisServer { return startRedisTB(b) }

func startRedisTB(t testing.TB, args ...string) *redisServer {
	t.Helper()
	path := requireRedisTool(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{t: t, path: path, dir: t.TempDir(), port: port, args: args}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// requireRedisTool returns the path of a Redis program (redis-server,
// redis-cli). Without it the test is skipped, or fails under .ci/run.
func requireRedisTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(requireRedisEnv) != "" {
			t.Fatalf("%s is not installed and %s is set", name, requireRedisEnv)
		}
		noteSkipped(t, name)
		t.Skipf("%s is not installed; install it (Debian/Ubuntu: apt-get install redis-server redis-tools; macOS: brew install redis) to run the Redis tests: they start their own servers on loopback ports", name)
	}
	return path
}

// Addr is the server's host:port.
func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Client returns a go-redis client for the server, closed when the test ends.
func (s *redisServer) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// start runs the server and waits until it answers PING.
func (s *redisServer) start() {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--daemonize", "no", "--loglevel", "warning"}, s.args...)
	s.cmd = exec.Command(s.path, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !s.pings() {
		if time.Now().After(deadline) {
			s.stop()
			s.t.Fatalf("redis-server on %s did not answer PING", s.Addr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server, as a crash or a restart would.
func (s *redisServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// restart stops the server and starts it again on the same port, empty.
func (s *redisServer) restart() {
	s.stop()
	s.start()
}

func (s *redisServer) pings() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

package redisdedup_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// skippedForTools records the tests skipped because a Redis program is
// missing, for TestMain's notice.
var skippedForTools struct {
	sync.Mutex
	tools map[string]bool
	tests []string
}

// noteSkipped records that test t is skipped for want of tool.
func noteSkipped(t testing.TB, tool string) {
	skippedForTools.Lock()
	defer skippedForTools.Unlock()
	if skippedForTools.tools == nil {
		skippedForTools.tools = map[string]bool{}
	}
	skippedForTools.tools[tool] = true
	skippedForTools.tests = append(skippedForTools.tests, t.Name())
}

// TestMain runs the tests, then says which were skipped for want of
// redis-server or redis-cli and how to install them. go test prints it when
// run in this directory without package arguments (the README's command:
// cd redisdedup && go test -race), where a skip would otherwise go unseen.
// quietRedis drops go-redis's own log lines: the tests stop and stall
// servers on purpose, and its "connection refused" lines would read as
// failures.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	code := m.Run()
	skippedForTools.Lock()
	tests, tools := skippedForTools.tests, skippedForTools.tools
	skippedForTools.Unlock()
	if len(tests) > 0 {
		var names []string
		for tool := range tools {
			names = append(names, tool)
		}
		fmt.Fprintf(os.Stderr, "redisdedup: %d tests SKIPPED because %s is not installed: %s\n"+
			"  install it to run them (Debian/Ubuntu: apt-get install redis-server redis-tools; macOS: brew install redis);\n"+
			"  they start their own servers on loopback ports\n",
			len(tests), strings.Join(names, " and "), strings.Join(tests, ", "))
	}
	os.Exit(code)
}

// TestMissingRedisIsReported runs the README's command for this module in a
// child go test whose PATH has no redis-server: the notice names the
// skipped tests and how to install Redis.
func TestMissingRedisIsReported(t *testing.T) {
	if os.Getenv("BUSIFAVOR_CHILD_TEST") != "" || testing.Short() {
		t.Skip("the child run itself, or -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	cmd := exec.Command(goBin, "test", "-count=1", "-run", "^TestRedisCluster$")
	cmd.Env = []string{"PATH=" + filepath.Dir(goBin), "HOME=" + os.Getenv("HOME"), "BUSIFAVOR_CHILD_TEST=1"}
	for _, k := range []string{"GOPATH", "GOCACHE", "GOMODCACHE", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test without redis-server: %v\n%s", err, out)
	}
	for _, want := range []string{"SKIPPED because redis-server is not installed: TestRedisCluster", "apt-get install redis-server"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
}

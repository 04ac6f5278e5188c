package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requirePostgresEnv, when set (.ci/run sets it), makes a missing
// PostgreSQL a failure instead of a skip.
const requirePostgresEnv = "BUSIFAVOR_REQUIRE_POSTGRES"

// postgresGlobEnv replaces, for TestMissingPostgresIsReported, the pattern
// findPostgres looks for Debian's initdb with.
const postgresGlobEnv = "BUSIFAVOR_TEST_POSTGRES_GLOB"

// installPostgres says how to get PostgreSQL for the tests.
const installPostgres = "install it (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) to run them: " +
	"they start their own server with initdb and postgres, on a loopback port in a temporary directory"

// pg is the PostgreSQL server the tests share: started by the first test
// that needs it, stopped by TestMain.
var pg struct {
	once    sync.Once
	missing string // why there is no PostgreSQL to start, when there is none
	err     error  // why it did not start
	admin   *sql.DB
	port    int
	cmd     *exec.Cmd
	stopped chan error // the server's exit
	dir     string

	mu      sync.Mutex
	skipped []string // tests skipped for want of PostgreSQL
}

// postgresDatabase returns the URL of a new, empty database on the tests'
// PostgreSQL server, starting the server first if no test has. Without
// PostgreSQL installed the test is skipped, or fails under .ci/run.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	pg.once.Do(func() {
		initdb, took, server := startPostgres()
		if pg.err == nil && pg.missing == "" {
			t.Logf("PostgreSQL (%s) started in %s: initdb %s, the server ready %s later", initdb, (took + server).Round(time.Millisecond),
				took.Round(time.Millisecond), server.Round(time.Millisecond))
		}
	})
	if pg.missing != "" {
		if os.Getenv(requirePostgresEnv) != "" {
			t.Fatalf("%s and %s is set", pg.missing, requirePostgresEnv)
		}
		pg.mu.Lock()
		pg.skipped = append(pg.skipped, t.Name())
		pg.mu.Unlock()
		t.Skipf("%s; %s", pg.missing, installPostgres)
	}
	if pg.err != nil {
		t.Fatalf("starting PostgreSQL: %v", pg.err)
	}
	name := "t_" + randomHex(8)
	if _, err := pg.admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	return postgresURL(name)
}

// postgresURL is the URL of database name on the tests' server.
func postgresURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", pg.port, name)
}

// startPostgres makes a cluster with initdb in a temporary directory and
// runs postgres on it, on a free loopback port, as the user running the
// tests, or as the user postgres when that is root (initdb and postgres
// refuse root). It reports which initdb it used and how long initdb and
// the server's start took.
func startPostgres() (initdb string, initTook, startTook time.Duration) {
	initdb, postgres := findPostgres()
	if initdb == "" {
		pg.missing = "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin)"
		return "", 0, 0
	}
	attr := &syscall.SysProcAttr{}
	dieWithTests(attr)
	var uid, gid = -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			pg.err = errors.New("running as root, which initdb refuses, and there is no user postgres to run it as: " +
				"run the tests as another user, or create the user (Debian's postgresql package does)")
			return initdb, 0, 0
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "busifavor-pg-")
	if err != nil {
		pg.err = err
		return initdb, 0, 0
	}
	pg.dir = dir
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			pg.err = err
			return initdb, 0, 0
		}
	}
	data := filepath.Join(dir, "data")

	begin := time.Now()
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.Dir, cmd.SysProcAttr = dir, attr
	if out, err := cmd.CombinedOutput(); err != nil {
		pg.err = fmt.Errorf("%s: %v\n%s", initdb, err, out)
		return initdb, 0, 0
	}
	initTook = time.Since(begin)

	begin = time.Now()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pg.err = err
		return initdb, initTook, 0
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	// fsync off: these tests kill the backend, never the database.
	cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(pg.port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200")
	var log bytes.Buffer
	cmd.Dir, cmd.SysProcAttr, cmd.Stdout, cmd.Stderr = dir, attr, &log, &log
	if err := cmd.Start(); err != nil {
		pg.err = err
		return initdb, initTook, 0
	}
	pg.cmd = cmd
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pg.admin, err = sql.Open("pgx", postgresURL("postgres"))
	if err != nil {
		pg.err = err
		return initdb, initTook, 0
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = pg.admin.PingContext(ctx)
		cancel()
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			pg.cmd = nil
			pg.err = fmt.Errorf("postgres exited: %v\n%s", werr, log.String())
			return initdb, initTook, 0
		default:
		}
		if time.Now().After(deadline) {
			pg.err = fmt.Errorf("postgres did not answer on port %d: %v\n%s", pg.port, err, log.String())
			return initdb, initTook, 0
		}
	}
	pg.stopped = exited
	return initdb, initTook, time.Since(begin)
}

// findPostgres returns the paths of initdb and postgres: on PATH, or the
// newest of Debian's /usr/lib/postgresql/VERSION/bin, which the postgresql
// package leaves off PATH. Both are "" when there is none.
func findPostgres() (initdb, postgres string) {
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		pattern := "/usr/lib/postgresql/*/bin/initdb"
		if p := os.Getenv(postgresGlobEnv); p != "" {
			pattern = p
		}
		dirs, _ := filepath.Glob(pattern)
		sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
		if len(dirs) == 0 {
			return "", ""
		}
		initdb = dirs[0]
	}
	// postgres sits beside initdb (a symlink to initdb on PATH leads there).
	if real, err := filepath.EvalSymlinks(initdb); err == nil {
		initdb = real
	}
	postgres = filepath.Join(filepath.Dir(initdb), "postgres")
	if _, err := os.Stat(postgres); err != nil {
		if postgres, err = exec.LookPath("postgres"); err != nil {
			return "", ""
		}
	}
	return initdb, postgres
}

// pgVersion is the major version in a /usr/lib/postgresql/VERSION/bin path.
func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// stopPostgres stops the tests' server, if one was started, and removes
// its directory.
func stopPostgres() {
	if pg.admin != nil {
		pg.admin.Close()
	}
	if pg.cmd != nil {
		_ = pg.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-pg.stopped:
		case <-time.After(30 * time.Second):
			_ = pg.cmd.Process.Kill()
			<-pg.stopped
		}
	}
	if pg.dir != "" {
		os.RemoveAll(pg.dir)
	}
}

// postgresSkipNotice says which tests were skipped for want of PostgreSQL
// and how to install it, or "" when none was.
func postgresSkipNotice() string {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if len(pg.skipped) == 0 {
		return ""
	}
	return fmt.Sprintf("merchant-backend: %d tests SKIPPED because PostgreSQL is not installed: %s\n  %s\n",
		len(pg.skipped), strings.Join(pg.skipped, ", "), installPostgres)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// TestMissingPostgresIsReported runs this test binary again where there is
// no PostgreSQL: the PostgreSQL tests are skipped and the notice names them
// and how to install it; with BUSIFAVOR_REQUIRE_POSTGRES set they fail.
func TestMissingPostgresIsReported(t *testing.T) {
	empty := t.TempDir()
	run := func(extra ...string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSchemaRunsAgain$")
		cmd.Env = append([]string{"PATH=" + empty, "HOME=" + empty, postgresGlobEnv + "=" + filepath.Join(empty, "*", "initdb")}, extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run()
	if err != nil {
		t.Fatalf("without PostgreSQL: %v\n%s", err, out)
	}
	for _, want := range []string{"1 tests SKIPPED because PostgreSQL is not installed: TestSchemaRunsAgain/postgres", "apt-get install postgresql"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	out, err = run(requirePostgresEnv + "=1")
	if err == nil || !strings.Contains(out, "PostgreSQL is not installed") || !strings.Contains(out, requirePostgresEnv+" is set") {
		t.Fatalf("without PostgreSQL, with %s=1: %v\n%s", requirePostgresEnv, err, out)
	}
}

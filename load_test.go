package busifavor_test

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestLoad shares one Client among many goroutines against busifavortest over
// loopback for a bounded number of calls. CI runs it small; run it big with
//
//	BUSIFAVOR_LOAD_CALLS=20000 BUSIFAVOR_LOAD_WORKERS=64 go test -run TestLoad -v .
//
// It reports calls/s and p50/p99 latency, and asserts zero errors, no leaked
// goroutines and bounded memory growth. It makes no timed assertion.
func TestLoad(t *testing.T) {
	calls, workers := envInt("BUSIFAVOR_LOAD_CALLS", 400), envInt("BUSIFAVOR_LOAD_WORKERS", 16)
	goroutines := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// The fake keeps only a few requests, so heap growth measures the client.
	s := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://a.cn/n"), busifavortest.WithMaxRecorded(100))
	c, err := s.Client()
	require.NoError(t, err)

	latencies := make([]time.Duration, calls)
	errs := make([]error, calls)
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				if i%4 == 0 {
					_, errs[i] = c.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: "https://a.cn/n"})
				} else {
					_, errs[i] = c.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
				}
				latencies[i] = time.Since(t0)
			}
		}()
	}
	for i := range calls {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	s.Close()
	s.HTTPClient().CloseIdleConnections()

	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			t.Log(err)
		}
	}
	slices.Sort(latencies)
	t.Logf("%d calls, %d workers: %.0f calls/s, p50 %s, p99 %s",
		calls, workers, float64(calls)/elapsed.Seconds(), latencies[calls/2], latencies[calls*99/100])
	assert.Zero(t, failed, "errors under load")

	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap growth after GC: %d KiB", growth/1024)
	assert.Less(t, growth, int64(64<<20), "memory grows without bound")

	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines left behind")
}

package busifavor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// clock is a settable clock for deduplicators.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryDeduplicatorStates(t *testing.T) {
	clk := newClock()
	d, err := busifavor.NewMemoryDeduplicator(10, time.Minute, busifavor.WithLease(10*time.Second), busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)

	c, err := d.Claim(ctx, "a")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
	assert.Equal(t, 10*time.Second, c.Lease)
	again, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusInFlight, again.Status)
	assert.Empty(t, again.Token)

	clk.Add(9999 * time.Millisecond)
	again, _ = d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusInFlight, again.Status, "just inside the lease")
	clk.Add(time.Millisecond)
	taken, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusClaimed, taken.Status, "the lapsed lease is taken over")
	assert.NotEqual(t, c.Token, taken.Token)

	// The first owner's lease lapsed and was taken over: it can neither
	// complete nor release.
	assert.ErrorIs(t, d.Complete(ctx, "a", c.Token), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "a", c.Token), busifavor.ErrNotOwner)
	require.NoError(t, d.Complete(ctx, "a", taken.Token))
	require.NoError(t, d.Complete(ctx, "a", taken.Token), "completing again with its own token: done")
	assert.ErrorIs(t, d.Complete(ctx, "a", c.Token), busifavor.ErrNotOwner, "done by another token")
	assert.ErrorIs(t, d.Release(ctx, "a", taken.Token), busifavor.ErrNotOwner, "a done id is not released")

	done, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusDone, done.Status)
	clk.Add(time.Minute - time.Millisecond)
	done, _ = d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusDone, done.Status, "just inside the TTL")
	clk.Add(time.Millisecond)
	fresh, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusClaimed, fresh.Status, "forgotten once the TTL has passed")

	require.NoError(t, d.Release(ctx, "a", fresh.Token))
	fresh, _ = d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusClaimed, fresh.Status, "a released id is handled again")
	require.NoError(t, d.Release(ctx, "never-claimed", "x"), "nothing to forget")

	for _, bad := range []func() error{
		func() error { _, err := busifavor.NewMemoryDeduplicator(0, time.Minute); return err },
		func() error { _, err := busifavor.NewMemoryDeduplicator(1, 0); return err },
		func() error {
			_, err := busifavor.NewMemoryDeduplicator(1, time.Minute, busifavor.WithLease(0))
			return err
		},
		func() error { _, err := busifavor.NewMemoryDeduplicator(1, time.Minute, nil); return err },
		func() error {
			_, err := busifavor.NewMemoryDeduplicator(1, time.Minute, busifavor.WithMemoryClock(nil))
			return err
		},
	} {
		assert.Error(t, bad())
	}
}

func TestMemoryDeduplicatorNeverEvictsAnIDInFlight(t *testing.T) {
	clk := newClock()
	d, err := busifavor.NewMemoryDeduplicator(2, time.Minute, busifavor.WithLease(10*time.Second), busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)
	a, _ := d.Claim(ctx, "a")
	b, _ := d.Claim(ctx, "b")
	_, err = d.Claim(ctx, "c")
	require.Error(t, err, "full of ids in flight: refused, not evicted")
	assert.Equal(t, 2, d.Len())
	again, _ := d.Claim(ctx, "a")
	assert.Equal(t, busifavor.ClaimStatusInFlight, again.Status, "a is still known to be in flight")

	// A done id makes room.
	require.NoError(t, d.Complete(ctx, "a", a.Token))
	c, err := d.Claim(ctx, "c")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c.Status)
	assert.Equal(t, 2, d.Len(), "bounded")

	// A lapsed lease makes room too.
	clk.Add(10 * time.Second)
	e, err := d.Claim(ctx, "e")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, e.Status)
	assert.Equal(t, 2, d.Len())
	_ = b
}

// failing wraps a Deduplicator and fails the methods it is told to.
type failing struct {
	busifavor.Deduplicator
	claim, complete, release atomic.Int32 // failures left
}

var errStore = errors.New("store unreachable")

func (f *failing) Claim(ctx context.Context, id string) (busifavor.Claim, error) {
	if f.claim.Add(-1) >= 0 {
		return busifavor.Claim{}, errStore
	}
	return f.Deduplicator.Claim(ctx, id)
}

func (f *failing) Complete(ctx context.Context, id, token string) error {
	if f.complete.Add(-1) >= 0 {
		return errStore
	}
	return f.Deduplicator.Complete(ctx, id, token)
}

func (f *failing) Release(ctx context.Context, id, token string) error {
	if f.release.Add(-1) >= 0 {
		return errStore
	}
	return f.Deduplicator.Release(ctx, id, token)
}

// dedupScene is a handler wrapped with Deduplicate, and one notification to
// deliver to it again and again.
type dedupScene struct {
	handler http.Handler
	header  http.Header
	body    []byte
	logs    *bytes.Buffer
	calls   atomic.Int32 // fn calls
	handled atomic.Int32 // fn calls that succeeded
}

func newDedupScene(t *testing.T, d busifavor.Deduplicator, fn func(call int32) error, opts ...busifavor.DedupOption) *dedupScene {
	t.Helper()
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	sc := &dedupScene{logs: &bytes.Buffer{}}
	sc.header, sc.body = s.CouponNotification(sampleCoupon)
	p := newParser(t, s, busifavor.WithEventLogger(slog.New(slog.NewTextHandler(sc.logs, nil))))
	sc.handler = busifavor.NewEventHandler(p, busifavor.Deduplicate(d, func(ctx context.Context, ev *busifavor.CouponEvent) error {
		if err := fn(sc.calls.Add(1)); err != nil {
			return err
		}
		sc.handled.Add(1)
		return nil
	}, opts...))
	return sc
}

func (sc *dedupScene) deliver() int {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(sc.body))
	req.Header = sc.header.Clone()
	sc.handler.ServeHTTP(rec, req)
	return rec.Code
}

func TestDeduplicatedDeliveries(t *testing.T) {
	newMem := func(t *testing.T, clk *clock) *busifavor.MemoryDeduplicator {
		d, err := busifavor.NewMemoryDeduplicator(100, time.Hour, busifavor.WithLease(30*time.Second), busifavor.WithMemoryClock(clk.Now))
		require.NoError(t, err)
		return d
	}

	t.Run("fn fails, then the redelivery is handled", func(t *testing.T) {
		sc := newDedupScene(t, newMem(t, newClock()), func(call int32) error {
			if call == 1 {
				return errors.New("database down")
			}
			return nil
		})
		assert.Equal(t, []int{500, 204, 204, 204}, []int{sc.deliver(), sc.deliver(), sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 2, sc.calls.Load())
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("fn panics, then the redelivery is handled", func(t *testing.T) {
		sc := newDedupScene(t, newMem(t, newClock()), func(call int32) error {
			if call == 1 {
				panic("nil map")
			}
			return nil
		})
		assert.Equal(t, []int{500, 204, 204}, []int{sc.deliver(), sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 1, sc.handled.Load())
		assert.Contains(t, sc.logs.String(), "panic: nil map")
		assert.NotContains(t, sc.logs.String(), string(sc.body[:40]), "the body is not logged")
	})

	t.Run("release fails, then the lease lapses and a redelivery is handled", func(t *testing.T) {
		clk := newClock()
		f := &failing{Deduplicator: newMem(t, clk)}
		f.release.Store(1)
		sc := newDedupScene(t, f, func(call int32) error {
			if call == 1 {
				return errors.New("database down")
			}
			return nil
		})
		assert.Equal(t, 500, sc.deliver())
		assert.Equal(t, 409, sc.deliver(), "still claimed: never 2xx")
		clk.Add(30 * time.Second)
		assert.Equal(t, []int{204, 204}, []int{sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("a delivery while the first is in flight gets 409; the first fails; the next is handled", func(t *testing.T) {
		release := make(chan struct{})
		started := make(chan struct{})
		sc := newDedupScene(t, newMem(t, newClock()), func(call int32) error {
			if call == 1 {
				close(started)
				<-release
				return errors.New("failed after all")
			}
			return nil
		})
		first := make(chan int)
		go func() { first <- sc.deliver() }()
		<-started
		assert.Equal(t, 409, sc.deliver())
		close(release)
		assert.Equal(t, 500, <-first)
		assert.Equal(t, 204, sc.deliver())
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("the deduplicator is unreachable: 503, fn not called", func(t *testing.T) {
		f := &failing{Deduplicator: newMem(t, newClock())}
		f.claim.Store(2)
		sc := newDedupScene(t, f, func(int32) error { return nil })
		assert.Equal(t, []int{503, 503, 204, 204}, []int{sc.deliver(), sc.deliver(), sc.deliver(), sc.deliver()})
		assert.EqualValues(t, 1, sc.calls.Load())
		assert.Contains(t, sc.logs.String(), "store unreachable")
	})

	t.Run("complete fails: 204, logged, fn not called again while the lease holds", func(t *testing.T) {
		f := &failing{Deduplicator: newMem(t, newClock())}
		f.complete.Store(1)
		sc := newDedupScene(t, f, func(int32) error { return nil })
		assert.Equal(t, 204, sc.deliver())
		assert.Contains(t, sc.logs.String(), "handled but not recorded")
		assert.Equal(t, 409, sc.deliver())
		assert.EqualValues(t, 1, sc.calls.Load())
	})

	t.Run("memory full of ids in flight: 503 for a new id", func(t *testing.T) {
		d, err := busifavor.NewMemoryDeduplicator(1, time.Hour)
		require.NoError(t, err)
		_, err = d.Claim(ctx, "another event, in flight")
		require.NoError(t, err)
		sc := newDedupScene(t, d, func(int32) error { return nil })
		assert.Equal(t, 503, sc.deliver())
		assert.Zero(t, sc.calls.Load())
	})

	t.Run("fn's context ends with the lease", func(t *testing.T) {
		d := newMem(t, newClock())
		var left time.Duration
		fn := busifavor.Deduplicate(d, func(ctx context.Context, ev *busifavor.CouponEvent) error {
			deadline, _ := ctx.Deadline()
			left = time.Until(deadline)
			return ctx.Err()
		})
		require.NoError(t, fn(ctx, &busifavor.CouponEvent{ID: "x"}))
		assert.True(t, left > 0 && left <= 30*time.Second, "%s left of a 30s lease", left)
	})
}

// TestMemoryDeduplicatorUnderConcurrency has goroutines race over a few ids,
// claiming, then completing or releasing at random: at no moment do two
// hold the same id, an id is completed at most once, and a completed id
// stays done.
func TestMemoryDeduplicatorUnderConcurrency(t *testing.T) {
	d, err := busifavor.NewMemoryDeduplicator(100, time.Hour)
	require.NoError(t, err)
	const ids = 8
	var holders, completions [ids]atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				n := (g*7 + i) % ids
				id := string(rune('a' + n))
				c, err := d.Claim(ctx, id)
				if !assert.NoError(t, err) {
					return
				}
				switch c.Status {
				case busifavor.ClaimStatusDone:
					assert.EqualValues(t, 1, completions[n].Load(), "done only after a completion")
				case busifavor.ClaimStatusClaimed:
					if h := holders[n].Add(1); h != 1 {
						t.Errorf("%d holders of %s", h, id)
					}
					holders[n].Add(-1)
					if i%5 == 0 {
						assert.EqualValues(t, 1, completions[n].Add(1), "completed once")
						assert.NoError(t, d.Complete(ctx, id, c.Token))
					} else {
						assert.NoError(t, d.Release(ctx, id, c.Token))
					}
				}
			}
		}()
	}
	wg.Wait()
}

// stallingComplete wraps a Deduplicator whose Complete stalls, as a store
// behind a stalled network does: it reports the context it was given on
// entered and answers only when the test sends it an error (nil: success)
// on answer, whatever that context says.
type stallingComplete struct {
	busifavor.Deduplicator
	entered chan context.Context
	answer  chan error
	done    chan error // what Complete returned, once it has
}

func newStallingComplete(d busifavor.Deduplicator) *stallingComplete {
	return &stallingComplete{Deduplicator: d, entered: make(chan context.Context, 1), answer: make(chan error), done: make(chan error, 1)}
}

func (s *stallingComplete) Complete(ctx context.Context, id, token string) error {
	s.entered <- ctx
	err := <-s.answer
	if err == nil {
		err = s.Deduplicator.Complete(ctx, id, token)
	}
	s.done <- err
	return err
}

// answerOf waits for an asynchronous delivery's answer. The bound only
// keeps a broken build from hanging the run; nothing is timed.
func answerOf(t *testing.T, answer <-chan int) int {
	t.Helper()
	select {
	case code := <-answer:
		return code
	case <-time.After(time.Minute):
		t.Fatal("no answer while the deduplicator stalls")
		return 0
	}
}

// TestAcknowledgedWhileRecordingStalls is issue 18's first event bug, with
// an in-memory store: recording a handled event stalls. The 204 goes out
// anyway (by the ack deadline); a redelivery meanwhile is not handled (the
// id is still in flight, not claimable); the recording goes on in the
// background and, once the store answers, the id is done.
func TestAcknowledgedWhileRecordingStalls(t *testing.T) {
	clk := newClock()
	mem, err := busifavor.NewMemoryDeduplicator(10, time.Hour, busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)
	d := newStallingComplete(mem)
	sc := newDedupScene(t, d, func(int32) error { return nil }, busifavor.WithAckDeadline(time.Millisecond))

	first := make(chan int, 1)
	go func() { first <- sc.deliver() }()
	<-d.entered
	assert.Equal(t, 204, answerOf(t, first), "acknowledged while the recording stalls")
	assert.Equal(t, 409, sc.deliver(), "a redelivery while the holder records: in flight, not handled again")

	d.answer <- nil // the store answers: the recording lands
	require.NoError(t, <-d.done)
	assert.Equal(t, 204, sc.deliver())
	assert.EqualValues(t, 1, sc.calls.Load(), "handled once")
	c, err := mem.Claim(ctx, sampleEventID(t, sc))
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusDone, c.Status)
}

// TestBackgroundRecordingIsBoundedByTheLease: the recording that outlives
// the answer is given a context that ends with the claim's lease (measured
// from before Claim), so the holder never records past its lease; a failed
// late recording is logged, with the event id and without the body.
func TestBackgroundRecordingIsBoundedByTheLease(t *testing.T) {
	clk := newClock()
	mem, err := busifavor.NewMemoryDeduplicator(10, time.Hour, busifavor.WithLease(30*time.Second), busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)
	// Claim answers when 29 s of the lease are gone: 1 s is left.
	d := newStallingComplete(&slowClaim{Deduplicator: mem, clk: clk, late: 29 * time.Second})
	logs := &syncBuffer{}
	sc := newDedupScene(t, d, func(int32) error { return nil }, busifavor.WithAckDeadline(time.Millisecond),
		busifavor.WithDedupClock(clk.Now), busifavor.WithDedupLogger(slog.New(slog.NewTextHandler(logs, nil))))

	first := make(chan int, 1)
	go func() { first <- sc.deliver() }()
	recCtx := <-d.entered
	entered := time.Now()
	assert.Equal(t, 204, answerOf(t, first))
	deadline, ok := recCtx.Deadline()
	require.True(t, ok, "the background recording is bounded")
	assert.False(t, deadline.After(entered.Add(time.Second)), "bounded by what was left of the lease (1s): %s", deadline.Sub(entered))

	d.answer <- errors.New("store unreachable")
	<-d.done
	line := logs.waitFor(t, "not recorded")
	assert.Contains(t, line, sampleEventID(t, sc))
	assert.Contains(t, line, "store unreachable")
	assert.NotContains(t, line, string(sc.body[:40]), "the body is not logged")
}

// syncBuffer is a log sink a test can wait on.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wrote == nil {
		b.wrote = make(chan struct{}, 1)
	}
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

// waitFor returns the first logged line containing s, waiting for it.
func (b *syncBuffer) waitFor(t *testing.T, s string) string {
	t.Helper()
	for {
		b.mu.Lock()
		for _, line := range strings.Split(b.buf.String(), "\n") {
			if strings.Contains(line, s) {
				b.mu.Unlock()
				return line
			}
		}
		if b.wrote == nil {
			b.wrote = make(chan struct{}, 1)
		}
		wrote := b.wrote
		b.mu.Unlock()
		select {
		case <-wrote:
		case <-time.After(time.Minute):
			t.Fatalf("nothing logged containing %q", s)
		}
	}
}

// sampleEventID is the id of the scene's notification.
func sampleEventID(t *testing.T, sc *dedupScene) string {
	t.Helper()
	var env struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(sc.body, &env))
	return env.ID
}

// slowClaim wraps a Deduplicator whose Claim answers late: the claim is
// taken at once, and its answer arrives after the clock moved by late.
type slowClaim struct {
	busifavor.Deduplicator
	clk  *clock
	late time.Duration
}

func (s *slowClaim) Claim(ctx context.Context, id string) (busifavor.Claim, error) {
	c, err := s.Deduplicator.Claim(ctx, id)
	s.clk.Add(s.late)
	s.late = 0 // only the first answer is late
	return c, err
}

// TestLeaseMeasuredFromBeforeClaim is issue 18's second event bug: a Claim
// whose answer arrives after the lease lapsed used to give fn a fresh
// lease's worth of context, and a redelivery, finding the lease lapsed,
// ran fn alongside it. Now fn is not called on a lapsed claim (503), and a
// claim answered late leaves fn only what remains of the lease.
func TestLeaseMeasuredFromBeforeClaim(t *testing.T) {
	t.Run("answered after the lease lapsed: fn not called, never two at once", func(t *testing.T) {
		clk := newClock()
		mem, err := busifavor.NewMemoryDeduplicator(10, time.Hour, busifavor.WithLease(30*time.Second), busifavor.WithMemoryClock(clk.Now))
		require.NoError(t, err)
		var running, most atomic.Int32
		entered, hold := make(chan struct{}), make(chan struct{})
		sc := newDedupScene(t, &slowClaim{Deduplicator: mem, clk: clk, late: 30 * time.Second}, func(call int32) error {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if call == 1 {
				close(entered)
				<-hold
			}
			return nil
		}, busifavor.WithDedupClock(clk.Now))
		first := make(chan int, 1)
		go func() { first <- sc.deliver() }()
		select {
		case code := <-first:
			assert.Equal(t, 503, code, "a claim answered after its lease is no claim")
			close(hold) // fn was not called: the next call need not wait
			assert.Equal(t, 204, sc.deliver(), "the next delivery is handled")
		case <-entered: // the bug: fn runs on a lapsed claim
			assert.Equal(t, 204, sc.deliver())
			close(hold)
			<-first
		}
		assert.EqualValues(t, 1, most.Load(), "fn ran %d times at once for one id", most.Load())
		assert.EqualValues(t, 1, sc.handled.Load())
	})

	t.Run("answered late: fn gets what remains of the lease", func(t *testing.T) {
		clk := newClock()
		mem, err := busifavor.NewMemoryDeduplicator(10, time.Hour, busifavor.WithLease(30*time.Second), busifavor.WithMemoryClock(clk.Now))
		require.NoError(t, err)
		d := &slowClaim{Deduplicator: mem, clk: clk, late: 29 * time.Second}
		var deadline time.Time
		fn := busifavor.Deduplicate(d, func(ctx context.Context, ev *busifavor.CouponEvent) error {
			deadline, _ = ctx.Deadline()
			return nil
		}, busifavor.WithDedupClock(clk.Now))
		require.NoError(t, fn(ctx, &busifavor.CouponEvent{ID: "x"}))
		after := time.Now()
		assert.False(t, deadline.After(after.Add(time.Second)), "%s left, of a lease with 1s left", deadline.Sub(after))
	})
}

// TestMemoryDeduplicatorIdempotentForItsToken: each method, repeated by
// the same holder (as a client retrying after a lost answer would), answers
// as the first time did; another holder is still refused.
func TestMemoryDeduplicatorIdempotentForItsToken(t *testing.T) {
	clk := newClock()
	d, err := busifavor.NewMemoryDeduplicator(10, time.Hour, busifavor.WithLease(10*time.Second), busifavor.WithMemoryClock(clk.Now))
	require.NoError(t, err)

	c, _ := d.Claim(ctx, "a")
	require.NoError(t, d.Complete(ctx, "a", c.Token))
	require.NoError(t, d.Complete(ctx, "a", c.Token), "Complete repeated")

	r, _ := d.Claim(ctx, "r")
	require.NoError(t, d.Release(ctx, "r", r.Token))
	require.NoError(t, d.Release(ctx, "r", r.Token), "Release repeated: the id is gone, as asked")

	// A lapsed lease nobody took over: the holder still completes (its
	// handling succeeded), and that is final.
	l, _ := d.Claim(ctx, "l")
	clk.Add(10 * time.Second)
	require.NoError(t, d.Complete(ctx, "l", l.Token))
	done, _ := d.Claim(ctx, "l")
	assert.Equal(t, busifavor.ClaimStatusDone, done.Status)

	// A lapsed lease taken over: the old holder clobbers nothing.
	o, _ := d.Claim(ctx, "o")
	clk.Add(10 * time.Second)
	n, _ := d.Claim(ctx, "o")
	require.Equal(t, busifavor.ClaimStatusClaimed, n.Status)
	assert.ErrorIs(t, d.Complete(ctx, "o", o.Token), busifavor.ErrNotOwner)
	assert.ErrorIs(t, d.Release(ctx, "o", o.Token), busifavor.ErrNotOwner)
	in, _ := d.Claim(ctx, "o")
	assert.Equal(t, busifavor.ClaimStatusInFlight, in.Status, "the new holder still holds it")

	// Completing an id forgotten meanwhile (released elsewhere, expired)
	// records it: the handling it reports succeeded.
	require.NoError(t, d.Complete(ctx, "gone", "a token"))
	done, _ = d.Claim(ctx, "gone")
	assert.Equal(t, busifavor.ClaimStatusDone, done.Status)
}

// TestEventWithoutIDIsRefused: an event without an id is never claimed,
// never handled and never taken for done; the handler answers 400 and
// logs why.
func TestEventWithoutIDIsRefused(t *testing.T) {
	d, err := busifavor.NewMemoryDeduplicator(10, time.Hour)
	require.NoError(t, err)
	var calls atomic.Int32
	fn := busifavor.Deduplicate(d, func(context.Context, *busifavor.CouponEvent) error { calls.Add(1); return nil })
	for range 2 {
		err := fn(ctx, &busifavor.CouponEvent{EventType: busifavor.EventTypeCouponSend})
		assert.ErrorIs(t, err, busifavor.ErrMissingEventID)
	}
	assert.Zero(t, calls.Load(), "fn is not called without an id")
	assert.Zero(t, d.Len(), "nothing was claimed or recorded")
	_, err = d.Claim(ctx, "")
	assert.ErrorIs(t, err, busifavor.ErrMissingEventID, "the deduplicator refuses it too")

	// Through the HTTP handler: a front end that lost the id.
	s := busifavortest.NewServer()
	t.Cleanup(s.Close)
	h, b := s.CouponNotification(sampleCoupon)
	logs := &bytes.Buffer{}
	p := newParser(t, s, busifavor.WithEventLogger(slog.New(slog.NewTextHandler(logs, nil))))
	handler := busifavor.NewEventHandler(p, func(ctx context.Context, ev *busifavor.CouponEvent) error {
		ev.ID = ""
		return fn(ctx, ev)
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(b))
	req.Header = h
	handler.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, logs.String(), "no id")
	assert.Zero(t, calls.Load())
}

// TestMemoryNamespacesKeepMerchantsApart: one store serving two merchants,
// whose event ids happen to be equal, keeps their states apart.
func TestMemoryNamespacesKeepMerchantsApart(t *testing.T) {
	d, err := busifavor.NewMemoryDeduplicator(10, time.Hour)
	require.NoError(t, err)
	m1, m2 := d.Namespace("1900000001"), d.Namespace("1900000002")
	c1, err := m1.Claim(ctx, "same-id")
	require.NoError(t, err)
	require.NoError(t, m1.Complete(ctx, "same-id", c1.Token))
	c2, err := m2.Claim(ctx, "same-id")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c2.Status, "the other merchant's event is not done")
	c0, err := d.Claim(ctx, "same-id")
	require.NoError(t, err)
	assert.Equal(t, busifavor.ClaimStatusClaimed, c0.Status, "nor is the unnamespaced one")
	// Separators cannot make two namespaces meet.
	a, _ := d.Namespace("a:b").Claim(ctx, "c")
	b, _ := d.Namespace("a").Claim(ctx, "b:c")
	assert.Equal(t, []busifavor.ClaimStatus{busifavor.ClaimStatusClaimed, busifavor.ClaimStatusClaimed}, []busifavor.ClaimStatus{a.Status, b.Status})
	assert.Equal(t, 5, d.Len(), "one store, bounded as a whole")
	done, _ := d.Namespace("1900000001").Claim(ctx, "same-id")
	assert.Equal(t, busifavor.ClaimStatusDone, done.Status, "a namespace is a name, not an instance")
}

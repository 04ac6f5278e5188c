package busifavor

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Deduplicator remembers, per event id, whether the event is unseen, in
// flight (claimed by one delivery, for a lease) or done (handled to
// completion, remembered for a TTL covering WeChat Pay's redelivery window).
// Deduplicate uses it so that each event is handled to completion once and
// none is lost while WeChat Pay still redelivers. NewMemoryDeduplicator
// serves one instance; package github.com/busifavor-go/busifavor/redisdedup
// serves several instances sharing a Redis.
//
// Implementations must make each method atomic, and Complete and Release
// owner-checked: they never undo another token's claim, so that a delivery
// whose lease lapsed, and whose id another delivery then claimed, cannot
// clobber the new owner. Each method must also answer a repetition by the
// same holder as it answered the first time, because a client that lost an
// answer sends the request again: a store reached over a network makes the
// token before sending Claim, so that a repeated Claim that finds its own
// token reports Claimed.
type Deduplicator interface {
	// Claim takes id for handling if it is unseen or its lease has lapsed
	// (Status Claimed, with a new Token and the lease's length), and otherwise
	// reports InFlight or Done. An error means the state is unknown: nothing
	// was claimed. An empty id is refused with an error matching
	// ErrMissingEventID.
	Claim(ctx context.Context, id string) (Claim, error)
	// Complete marks id done by token, remembered for the TTL: when token
	// holds id in flight, when id is already done by token (a repeated
	// Complete), and when id is not remembered at all (its lease lapsed and
	// nobody claimed it since: the handling Complete reports succeeded). It
	// returns ErrNotOwner when another token holds id or has completed it.
	Complete(ctx context.Context, id, token string) error
	// Release forgets id, so that the next delivery handles it: when token
	// holds id in flight, and when id is not remembered at all (a repeated
	// Release, or a lapsed lease). It returns ErrNotOwner when another token
	// holds id, or when id is done.
	Release(ctx context.Context, id, token string) error
}

// ClaimStatus is what Claim found for an id.
type ClaimStatus int

// The states an id can be found in.
const (
	// ClaimStatusClaimed: the id was unseen or its lease had lapsed; the caller owns it
	// for Claim.Lease.
	ClaimStatusClaimed ClaimStatus = iota + 1
	// ClaimStatusInFlight: another delivery owns the id and its lease has not lapsed.
	ClaimStatusInFlight
	// ClaimStatusDone: the id was handled to completion within the TTL.
	ClaimStatusDone
)

// String names the status.
func (s ClaimStatus) String() string {
	switch s {
	case ClaimStatusClaimed:
		return "claimed"
	case ClaimStatusInFlight:
		return "in flight"
	case ClaimStatusDone:
		return "done"
	}
	return fmt.Sprintf("ClaimStatus(%d)", int(s))
}

// Claim is the result of Deduplicator.Claim.
type Claim struct {
	// Status is what Claim found.
	Status ClaimStatus
	// Token identifies the claim when Status is Claimed; Complete and
	// Release need it.
	Token string
	// Lease is how long the claim lasts when Status is Claimed. The store
	// starts it when it takes the claim, so Deduplicate measures it from
	// before it called Claim: what it counts is never longer than what the
	// store counts.
	Lease time.Duration
}

// Deduplication errors.
var (
	// ErrInFlight: another delivery of the same event is being handled.
	// NewEventHandler answers it with 409, so that WeChat Pay delivers
	// again later, when the first delivery has either completed (and the
	// event is acknowledged) or failed (and the event is handled).
	ErrInFlight = errors.New("busifavor: the event is being handled by another delivery")
	// ErrNotOwner: Complete or Release by a delivery whose lease lapsed and
	// whose id another delivery has claimed (or completed) since.
	ErrNotOwner = errors.New("busifavor: the claim on the event was lost (its lease lapsed)")
	// ErrDeduplicator: the deduplicator could not say whether the event was
	// seen (unreachable, full, too slow, …). Nothing was handled;
	// NewEventHandler answers 503, so that WeChat Pay delivers again later.
	ErrDeduplicator = errors.New("busifavor: deduplicator unavailable")
	// ErrHandledNotRecorded: the handler function succeeded but the
	// deduplicator could not record it (Complete failed). The event was
	// handled: do not handle it again. NewEventHandler answers 204 and logs
	// the failure; the id becomes claimable again when its lease lapses.
	ErrHandledNotRecorded = errors.New("busifavor: event handled, but the deduplicator did not record it")
	// ErrMissingEventID: the event has no id, so it cannot be deduplicated.
	// Deduplicate refuses it without calling the handler function and
	// without touching the deduplicator (an empty id would otherwise be
	// one shared key, and every later event without an id would be taken
	// for done); NewEventHandler answers 400 and logs it.
	ErrMissingEventID = errors.New("busifavor: the event has no id")
)

// DefaultAckDeadline is how long after it is called Deduplicate's function
// answers at the latest, whatever the deduplicator does, once the handler
// function has returned: under WeChat Pay's 5 s wait, leaving a second for
// reading and verifying the notification and for the network.
const DefaultAckDeadline = 4 * time.Second

// DedupOption configures Deduplicate. An option given a value it cannot
// use makes Deduplicate fail, naming the option.
type DedupOption func(*dedupConfig) error

// dedupConfig is Deduplicate's settings.
type dedupConfig struct {
	ack      time.Duration
	now      func() time.Time
	logger   *slog.Logger
	observer Observer // nil: nothing observed
}

// WithAckDeadline sets how long after it is called Deduplicate's function
// answers at the latest, once the handler function has returned (default
// DefaultAckDeadline). It must be positive. Keep it under WeChat Pay's 5 s
// wait, less the time the notification takes to arrive and be verified.
func WithAckDeadline(d time.Duration) DedupOption {
	return func(c *dedupConfig) error {
		if d <= 0 {
			return fmt.Errorf("busifavor: WithAckDeadline: %s is not positive", d)
		}
		c.ack = d
		return nil
	}
}

// WithDedupClock sets the clock Deduplicate measures what is left of a
// claim's lease with (default time.Now), for tests. nil is refused.
func WithDedupClock(now func() time.Time) DedupOption {
	return func(c *dedupConfig) error {
		if now == nil {
			return errors.New("busifavor: WithDedupClock: nil clock; leave the option out for time.Now")
		}
		c.now = now
		return nil
	}
}

// WithDedupLogger sets where Deduplicate logs a recording or a release
// that failed after it had answered (default slog.Default()). The event id
// and the error are logged, never the event. WithDedupLogger(nil) logs
// nothing.
func WithDedupLogger(l *slog.Logger) DedupOption {
	return func(c *dedupConfig) error {
		c.logger = orDiscard(l)
		return nil
	}
}

// Deduplicate wraps a notification handler function so that each event id
// is handled to completion once:
//
//   - an unseen id is claimed and fn is called, with a context that ends
//     when the claim's lease lapses (measured from before Claim was
//     called); success marks the id done (Complete), an error or a panic
//     releases it (Release; the panic goes on, for NewEventHandler to
//     recover), so that WeChat Pay's next delivery is handled;
//   - a done id returns nil without calling fn;
//   - an id in flight returns ErrInFlight without calling fn;
//   - when the deduplicator fails, or answers Claim only after the lease
//     it grants has lapsed, the error matches ErrDeduplicator and fn is not
//     called;
//   - an event without an id returns ErrMissingEventID without calling fn
//     or the deduplicator.
//
// The answer is not held up by the deduplicator: once fn has returned, the
// function returns by the ack deadline (WithAckDeadline, default
// DefaultAckDeadline, counted from its call), so that WeChat Pay, which
// waits 5 s, gets its 204 for a handled event even while the store stalls.
// A Claim not answered by then fails (ErrDeduplicator). A Complete or
// Release not finished by then goes on in the background, with a context
// that ends when the lease lapses, so a holder never records past its
// lease; a late failure is logged (WithDedupLogger). Until the lease lapses
// the id stays in flight, so a redelivery meanwhile gets ErrInFlight and is
// not handled again.
//
// What holds when the store is unreachable, or stalls, for longer than the
// lease: an event is acknowledged only after fn succeeded, and fn is never
// called without a claim, so no event is lost (at least once). Two calls of
// fn for one id never overlap while the store keeps the lease it granted
// (fn's context ends first). But a success that could not be recorded
// within the lease is forgotten with the lease: the id is claimable again,
// and if WeChat Pay delivers the event once more (it missed the 204), fn is
// called a second time. Exactly once holds only while the store answers
// within the lease.
//
// fn should finish well within the ack deadline (WeChat Pay waits only
// 5 s): a slower fn delays the answer, and one outliving the lease lets a
// later delivery claim the id again.
//
// Deduplicate fails, and returns no function, when d or fn is nil or an
// option is given a value it cannot use (naming every such option), as the
// package's constructors do: a misconfiguration shows at start-up, not at
// the first notification.
//
//	handle, err := busifavor.Deduplicate(seen, record)
//	if err != nil {
//		return err
//	}
//	http.Handle("/busifavor/notify", busifavor.NewEventHandler(parser, handle))
func Deduplicate(d Deduplicator, fn func(ctx context.Context, ev *CouponEvent) error, opts ...DedupOption) (func(ctx context.Context, ev *CouponEvent) error, error) {
	if d == nil || fn == nil {
		return nil, errors.New("busifavor: Deduplicate: nil Deduplicator or function")
	}
	cfg := dedupConfig{ack: DefaultAckDeadline, now: time.Now, logger: slog.Default()}
	if err := applyOptions("Deduplicate", &cfg, opts); err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev *CouponEvent) (err error) {
		if ev == nil || ev.ID == "" {
			return fmt.Errorf("%w: refused without handling it", ErrMissingEventID)
		}
		start := cfg.now()
		ack, cancelAck := context.WithTimeout(ctx, cfg.ack)
		defer cancelAck()
		var t time.Time
		if cfg.observer != nil {
			t = time.Now()
		}
		c, err := d.Claim(ack, ev.ID)
		if cfg.observer != nil {
			cfg.observer.EndStoreCall(ctx, StoreCall{Op: StoreClaim, EventID: ev.ID, Status: c.Status, Duration: time.Since(t), Err: err})
		}
		if err != nil {
			return fmt.Errorf("%w: claiming event %s: %w", ErrDeduplicator, ev.ID, err)
		}
		switch c.Status {
		case ClaimStatusDone:
			markDuplicate(ctx)
			return nil
		case ClaimStatusInFlight:
			return fmt.Errorf("%w: event %s", ErrInFlight, ev.ID)
		case ClaimStatusClaimed:
		default:
			return fmt.Errorf("%w: claiming event %s: unknown status %v", ErrDeduplicator, ev.ID, c.Status)
		}
		left := c.Lease - cfg.now().Sub(start)
		if left <= 0 {
			// Another delivery may hold the id by now: handling it here
			// could run fn twice at once. The claim lapses on its own.
			return fmt.Errorf("%w: claiming event %s: answered after the %s lease had lapsed", ErrDeduplicator, ev.ID, c.Lease)
		}
		leaseEnd := time.Now().Add(left)
		handled := false
		defer func() {
			if handled {
				return
			}
			if rerr := cfg.settle(ctx, ack, leaseEnd, StoreRelease, ev.ID, func(ctx context.Context) error {
				return d.Release(ctx, ev.ID, c.Token)
			}); rerr != nil {
				// The lease lapses on its own; until then redeliveries get 409.
				err = errors.Join(err, fmt.Errorf("releasing event %s: %w", ev.ID, rerr))
			}
		}()
		fnCtx, cancel := context.WithDeadline(ctx, leaseEnd)
		defer cancel()
		if err := fn(fnCtx, ev); err != nil {
			return err
		}
		handled = true
		if err := cfg.settle(ctx, ack, leaseEnd, StoreComplete, ev.ID, func(ctx context.Context) error {
			return d.Complete(ctx, ev.ID, c.Token)
		}); err != nil {
			return fmt.Errorf("%w: event %s: %w", ErrHandledNotRecorded, ev.ID, err)
		}
		return nil
	}, nil
}

// settle runs op (a Complete or a Release, which) with a context that
// ends at leaseEnd, even if ctx ends first (WeChat Pay hung up), and waits
// for it until ack is done. It returns op's error, or nil if op is still
// running then: op goes on in the background, and a failure is logged.
func (c *dedupConfig) settle(ctx, ack context.Context, leaseEnd time.Time, which StoreOp, id string, op func(context.Context) error) error {
	var start time.Time
	if c.observer != nil {
		start = time.Now()
	}
	done := make(chan error, 1)
	go func() {
		opCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), leaseEnd)
		defer cancel()
		done <- op(opCtx)
	}()
	select {
	case err := <-done:
		c.report(ctx, which, id, start, err, false)
		return err
	case <-ack.Done():
		select { // answered just as the deadline came: say so
		case err := <-done:
			c.report(ctx, which, id, start, err, false)
			return err
		default:
		}
	}
	what := "recorded"
	if which == StoreRelease {
		what = "released"
	}
	go func() {
		err := <-done
		c.report(ctx, which, id, start, err, true)
		if err != nil {
			c.logger.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "busifavor event not "+what+" by the deduplicator after the answer",
				slog.String("event_id", id), slog.String("error", err.Error()))
		}
	}()
	return nil
}

// report tells the observer, if any, about a Complete or a Release started
// at start that ended now with err.
func (c *dedupConfig) report(ctx context.Context, which StoreOp, id string, start time.Time, err error, late bool) {
	if c.observer != nil {
		c.observer.EndStoreCall(ctx, StoreCall{Op: which, EventID: id, Duration: time.Since(start), Err: err, Late: late})
	}
}

// Deduplicator defaults, for NewMemoryDeduplicator and redisdedup.New alike.
const (
	// DefaultLease is how long a claim lasts before another delivery may
	// take the id over: longer than WeChat Pay's 5 s wait, shorter than its
	// 60 s between deliveries, so a claim left by a crashed process has
	// lapsed when the next delivery comes.
	DefaultLease = 30 * time.Second
	// DefaultDoneTTL is how long a handled event id is remembered: a day,
	// well past WeChat Pay's redelivery window (11 deliveries, 60 s apart).
	DefaultDoneTTL = 24 * time.Hour
)

// MemoryDeduplicator is an in-process Deduplicator for a single instance,
// with a bounded size and a TTL for done ids (WithDoneTTL, default
// DefaultDoneTTL, which covers WeChat Pay's redeliveries: 11 tries, 60 s
// apart). When full, the oldest done id is forgotten to make room; an id
// in flight never is: a claim that would need it is refused with an error
// matching ErrDeduplicator (NewEventHandler answers 503, and WeChat Pay
// delivers again later). Namespace gives each merchant served by one
// process its own ids within the one store.
type MemoryDeduplicator struct {
	mu      sync.Mutex
	max     int
	cfg     memoryConfig
	done    *list.List // of *memEntry in done state, oldest first (and so soonest to expire)
	entries map[memKey]*memEntry
}

// memKey is an id in its namespace.
type memKey struct{ ns, id string }

// memEntry is one id's state.
type memEntry struct {
	key   memKey
	token string // the holder's, in flight; the completer's, done
	done  bool
	until time.Time     // lease end (in flight) or expiry (done)
	elem  *list.Element // in done, when done
}

// MemoryOption configures a MemoryDeduplicator in NewMemoryDeduplicator.
// An option given a value it cannot use makes NewMemoryDeduplicator fail,
// naming the option. WithLease and WithDoneTTL are named as redisdedup's
// options are.
type MemoryOption func(*memoryConfig) error

// memoryConfig is what the MemoryOptions set.
type memoryConfig struct {
	lease, ttl time.Duration
	now        func() time.Time
}

// WithLease sets how long a claim lasts (default DefaultLease). It must be
// positive.
func WithLease(d time.Duration) MemoryOption {
	return func(c *memoryConfig) error {
		if d <= 0 {
			return fmt.Errorf("busifavor: WithLease: %s is not positive", d)
		}
		c.lease = d
		return nil
	}
}

// WithDoneTTL sets how long a handled event id is remembered (default
// DefaultDoneTTL). It must be positive.
func WithDoneTTL(d time.Duration) MemoryOption {
	return func(c *memoryConfig) error {
		if d <= 0 {
			return fmt.Errorf("busifavor: WithDoneTTL: %s is not positive", d)
		}
		c.ttl = d
		return nil
	}
}

// WithMemoryClock sets the clock leases and TTLs are measured with (default
// time.Now), for tests. nil is refused.
func WithMemoryClock(now func() time.Time) MemoryOption {
	return func(c *memoryConfig) error {
		if now == nil {
			return errors.New("busifavor: WithMemoryClock: nil clock; leave the option out for time.Now")
		}
		c.now = now
		return nil
	}
}

// NewMemoryDeduplicator remembers up to maxEntries ids (at least 1), done
// ones for the TTL (WithDoneTTL). It fails when maxEntries is below 1, and,
// naming every option given a value it cannot use, when any option does.
func NewMemoryDeduplicator(maxEntries int, opts ...MemoryOption) (*MemoryDeduplicator, error) {
	var errs []error
	if maxEntries < 1 {
		errs = append(errs, fmt.Errorf("busifavor: NewMemoryDeduplicator: maxEntries is %d; it must be at least 1", maxEntries))
	}
	cfg := memoryConfig{lease: DefaultLease, ttl: DefaultDoneTTL, now: time.Now}
	if err := applyOptions("NewMemoryDeduplicator", &cfg, opts); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &MemoryDeduplicator{max: maxEntries, cfg: cfg, done: list.New(), entries: make(map[memKey]*memEntry)}, nil
}

// Namespace returns a Deduplicator on m's store (sharing its bound, lease
// and TTL) whose ids are apart from those of every other namespace: give
// each merchant a process serves its own (its merchant number, say), so
// that equal event ids of two merchants never meet. m's own methods use the
// namespace "".
func (m *MemoryDeduplicator) Namespace(ns string) Deduplicator { return memNamespace{m, ns} }

// memNamespace is a MemoryDeduplicator's view of one namespace.
type memNamespace struct {
	m  *MemoryDeduplicator
	ns string
}

func (v memNamespace) Claim(_ context.Context, id string) (Claim, error) {
	return v.m.claim(memKey{v.ns, id})
}

func (v memNamespace) Complete(_ context.Context, id, token string) error {
	return v.m.complete(memKey{v.ns, id}, token)
}

func (v memNamespace) Release(_ context.Context, id, token string) error {
	return v.m.release(memKey{v.ns, id}, token)
}

// errMemoryFull is a claim refused because every remembered id is in flight.
var errMemoryFull = errors.New("every remembered id is in flight; raise maxEntries")

// Claim implements Deduplicator.
func (m *MemoryDeduplicator) Claim(_ context.Context, id string) (Claim, error) {
	return m.claim(memKey{"", id})
}

// Complete implements Deduplicator.
func (m *MemoryDeduplicator) Complete(_ context.Context, id, token string) error {
	return m.complete(memKey{"", id}, token)
}

// Release implements Deduplicator.
func (m *MemoryDeduplicator) Release(_ context.Context, id, token string) error {
	return m.release(memKey{"", id}, token)
}

func (m *MemoryDeduplicator) claim(k memKey) (Claim, error) {
	if k.id == "" {
		return Claim{}, ErrMissingEventID
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.now()
	m.expire(now)
	if e, ok := m.entries[k]; ok {
		switch {
		case e.done:
			return Claim{Status: ClaimStatusDone}, nil
		case now.Before(e.until):
			return Claim{Status: ClaimStatusInFlight}, nil
		}
		m.remove(e) // a lapsed lease: take it over
	}
	if len(m.entries) >= m.max && !m.makeRoom(now) {
		return Claim{}, errMemoryFull
	}
	e := &memEntry{key: k, token: newToken(), until: now.Add(m.cfg.lease)}
	m.entries[k] = e
	return Claim{Status: ClaimStatusClaimed, Token: e.token, Lease: m.cfg.lease}, nil
}

func (m *MemoryDeduplicator) complete(k memKey, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.now()
	m.expire(now)
	e, ok := m.entries[k]
	switch {
	case !ok: // its lease lapsed and it was forgotten: record it anyway
		if len(m.entries) >= m.max && !m.makeRoom(now) {
			return errMemoryFull
		}
		e = &memEntry{key: k, token: token}
		m.entries[k] = e
	case e.token != token:
		return ErrNotOwner
	case e.done:
		return nil // a repeated Complete
	}
	e.done, e.until = true, now.Add(m.cfg.ttl)
	e.elem = m.done.PushBack(e)
	return nil
}

func (m *MemoryDeduplicator) release(k memKey, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[k]
	switch {
	case !ok:
		return nil // nothing to forget
	case e.done || e.token != token:
		return ErrNotOwner
	}
	m.remove(e)
	return nil
}

// Len reports how many ids are remembered, in flight and done, in every
// namespace.
func (m *MemoryDeduplicator) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// expire forgets done ids past their TTL.
func (m *MemoryDeduplicator) expire(now time.Time) {
	for f := m.done.Front(); f != nil && !now.Before(f.Value.(*memEntry).until); f = m.done.Front() {
		m.remove(f.Value.(*memEntry))
	}
}

// makeRoom frees one place: the oldest done id, else a lapsed lease. It
// reports false when every id is in flight.
func (m *MemoryDeduplicator) makeRoom(now time.Time) bool {
	if f := m.done.Front(); f != nil {
		m.remove(f.Value.(*memEntry))
		return true
	}
	for _, e := range m.entries { // all in flight: only reached when full of them
		if !now.Before(e.until) {
			m.remove(e)
			return true
		}
	}
	return false
}

func (m *MemoryDeduplicator) remove(e *memEntry) {
	if e.elem != nil {
		m.done.Remove(e.elem)
	}
	delete(m.entries, e.key)
}

// newToken returns a random claim token.
func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

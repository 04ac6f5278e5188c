package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"go.opentelemetry.io/otel"

	"github.com/busifavor-go/busifavor"
)

// Backend is the coupon part of a merchant backend: at start-up it makes sure
// WeChat Pay sends coupon events to NotifyURL, and it serves that URL.
type Backend struct {
	Client    *busifavor.Client
	Parser    *busifavor.EventParser
	Seen      busifavor.Deduplicator // NewMemoryDeduplicator for one instance; redisdedup.New for several
	NotifyURL string
	// Record stores an event (Store.Record). It must be quick (WeChat Pay
	// waits 5 seconds for the answer), and must change nothing for an event
	// it has already recorded: the deduplicator does not know of one whose
	// process died between Record and Complete, nor, in memory, of any
	// before a restart.
	Record func(ctx context.Context, ev *busifavor.CouponEvent) error
	Log    *slog.Logger
	// Observer, when set, is told about the deduplicator's calls (the
	// client and the parser get it in newBackend).
	Observer busifavor.Observer

	shutdown func(context.Context) error // flushes the observer's spans at exit
}

// Start sets the notify URL. Setting the URL in effect again changes
// nothing, so Start does not read it first: a first start, with no URL set
// yet, is as quiet as any other. The call is retried on 5xx and network
// errors and fails over to the backup domain.
func (b *Backend) Start(ctx context.Context) error {
	set, err := b.Client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: b.NotifyURL})
	if err != nil {
		return fmt.Errorf("setting the notify URL: %w", err)
	}
	b.Log.Info("notify URL set", "url", set.NotifyURL, "at", set.UpdateTime, "request_id", set.RequestID)
	return nil
}

// Path is the path of NotifyURL, which Handler serves: the front end that
// ends TLS passes it through unchanged.
func (b *Backend) Path() string {
	if u, err := url.Parse(b.NotifyURL); err == nil && u.Path != "" {
		return u.Path
	}
	return "/"
}

// Handler serves NotifyURL's path: each verified event is recorded once,
// however often WeChat Pay delivers it. Other paths answer 404, other
// methods 405. It fails when Seen or Record is missing.
func (b *Backend) Handler() (http.Handler, error) {
	var opts []busifavor.DedupOption
	if b.Observer != nil {
		opts = append(opts, busifavor.WithDedupObserver(b.Observer))
	}
	// Record runs inside the event's span (when an observer is set), and
	// its own span nests there; without a tracer provider it costs nothing.
	tracer := otel.Tracer("merchant-backend")
	record := func(ctx context.Context, ev *busifavor.CouponEvent) error {
		ctx, span := tracer.Start(ctx, "record coupon event")
		defer span.End()
		return b.Record(ctx, ev)
	}
	if b.Record == nil {
		record = nil // Deduplicate names what is missing
	}
	deduped, err := busifavor.Deduplicate(b.Seen, record, opts...)
	if err != nil {
		return nil, err
	}
	events := busifavor.NewEventHandler(b.Parser, deduped)
	path := b.Path()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != path:
			http.NotFound(w, r)
		case r.Method != http.MethodPost:
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		default:
			events.ServeHTTP(w, r)
		}
	}), nil
}

// flush writes out the spans not yet exported; it does nothing without an
// observer.
func (b *Backend) flush(ctx context.Context) {
	if b.shutdown != nil {
		_ = b.shutdown(ctx)
	}
}

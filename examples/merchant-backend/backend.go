package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/busifavor-go/busifavor"
)

// Backend is the coupon part of a merchant backend: at start-up it makes sure
// WeChat Pay sends coupon events to NotifyURL, and it serves that URL.
type Backend struct {
	Client    *busifavor.Client
	Parser    *busifavor.EventParser
	Seen      busifavor.Deduplicator // NewMemoryDeduplicator for one instance; redisdedup.New for several
	NotifyURL string
	// Record stores an event for later processing. It must be quick:
	// WeChat Pay waits 5 seconds for the answer.
	Record func(ctx context.Context, ev *busifavor.CouponEvent) error
	Log    *slog.Logger
}

// Start sets the notify URL unless it is already in effect. Both calls are
// retried on 5xx and network errors and fail over to the backup domain.
func (b *Backend) Start(ctx context.Context) error {
	current, err := b.Client.GetCallbacks(ctx, busifavor.GetCallbacksRequest{})
	switch {
	case err == nil && current.NotifyURL == b.NotifyURL:
		b.Log.Info("notify URL already set", "url", b.NotifyURL, "request_id", current.RequestID)
		return nil
	case err != nil && !errors.Is(err, busifavor.ErrResourceNotExists): // not set yet is fine
		return fmt.Errorf("reading the notify URL: %w", err)
	}
	set, err := b.Client.SetCallbacks(ctx, busifavor.SetCallbacksRequest{NotifyURL: b.NotifyURL})
	if err != nil {
		return fmt.Errorf("setting the notify URL: %w", err)
	}
	b.Log.Info("notify URL set", "url", set.NotifyURL, "at", set.UpdateTime, "request_id", set.RequestID)
	return nil
}

// Handler serves the notify URL: each verified event is recorded once,
// however often WeChat Pay delivers it.
func (b *Backend) Handler() http.Handler {
	return busifavor.NewEventHandler(b.Parser, busifavor.Deduplicate(b.Seen, b.Record))
}

package main

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", pure Go

	"github.com/busifavor-go/busifavor"
)

// The schemas, run at every start-up; each statement is safe to run again.
var (
	//go:embed schema/sqlite.sql
	sqliteSchema string
	//go:embed schema/postgres.sql
	postgresSchema string
)

// DefaultSQLiteFile is the database the backend uses, in its working
// directory, when DATABASE_URL is not set.
const DefaultSQLiteFile = "merchant-backend.db"

// schemaLock is the PostgreSQL advisory lock instances take while they
// create the tables: two CREATE TABLE IF NOT EXISTS of one table at once
// can collide in PostgreSQL's catalog.
const schemaLock = 0x62757369 // "busi"

// The statements of Record, in the placeholder syntax both databases read.
const (
	insertInbox = `INSERT INTO inbox (event_id, event_type, received_at) VALUES ($1, $2, $3)
ON CONFLICT (event_id) DO NOTHING`
	insertCouponSend = `INSERT INTO coupon_sends (event_id, stock_id, coupon_code, openid, send_time, send_channel)
VALUES ($1, $2, $3, $4, $5, $6)`
)

// Store records coupon events in a SQL database, each event once however
// often it is delivered, even across a crash: the effect (a coupon_sends
// row) and the event's id (an inbox row, whose primary key is the id) are
// committed in one transaction, so either both are there or neither is.
type Store struct {
	db     *sql.DB
	driver string // "sqlite" or "pgx"
	// Where names the database for log lines: the SQLite file, or the
	// PostgreSQL URL without its password.
	Where string
	// Log receives a line per event recorded, or found already recorded,
	// with the openid and the coupon code masked.
	Log *slog.Logger
}

// OpenStore opens the database databaseURL names and creates its tables
// where they are missing:
//
//   - "" is SQLite in DefaultSQLiteFile, in the working directory;
//   - "sqlite:PATH" is SQLite in the file PATH (created if missing);
//   - "postgres://…" or "postgresql://…" is PostgreSQL, through pgx (any
//     URL pgx reads, with sslmode and the rest).
func OpenStore(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	s := &Store{Log: log}
	var dsn string
	switch {
	case databaseURL == "" || strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(databaseURL, "sqlite:")
		if path == "" {
			path = DefaultSQLiteFile
		}
		if strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("DATABASE_URL: the SQLite file name %q holds ? or #, which the driver reads as options: rename it", path)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		// WAL lets readers run beside the writer; writers take the lock
		// when they begin (immediate), waiting up to 5 s for one another;
		// synchronous=FULL makes a commit durable before it returns. Times
		// are written as 2025-03-25 10:30:00.123+08:00, which SQLite's date
		// functions read (the driver's default is Go's Time.String).
		s.driver, s.Where = "sqlite", "SQLite file "+abs
		dsn = abs + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_foreign_keys=1&_txlock=immediate&_time_format=sqlite"
	case strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://"):
		u, err := url.Parse(databaseURL)
		if err != nil {
			return nil, errors.New("DATABASE_URL: not a URL (postgres://user:password@host:port/database)")
		}
		s.driver, s.Where, dsn = "pgx", "PostgreSQL "+u.Redacted(), databaseURL
	default:
		return nil, errors.New(`DATABASE_URL: want postgres://… or postgresql://… for PostgreSQL, or sqlite:PATH (or nothing, for the file ` + DefaultSQLiteFile + `) for SQLite`)
	}
	db, err := sql.Open(s.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the %s: %w", s.Where, err)
	}
	s.db = db
	err = s.createTables(ctx)
	// Two instances starting at once on one SQLite file can meet while one
	// switches the file to WAL, which takes no busy timeout: try again.
	for try := 0; err != nil && s.driver == "sqlite" && isBusy(err) && try < 50; try++ {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
		err = s.createTables(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("creating the tables in the %s: %w", s.Where, err)
	}
	return s, nil
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (5): the file is
// locked by another connection.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}

// createTables runs the schema, in one transaction.
func (s *Store) createTables(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	schema := sqliteSchema
	if s.driver == "pgx" {
		schema = postgresSchema
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLock); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Record records a COUPON.SEND event: its coupon_sends row and its inbox
// row, in one transaction. An event whose inbox row is already there (a
// redelivery of an event committed before, whether or not the deduplicator
// remembers it) changes nothing and returns nil, so that WeChat Pay gets
// its 2xx. While another transaction holds the same event's inbox row
// uncommitted (another instance handling it), the insert waits for that
// transaction to end, and then finds the row or takes it. Other event types
// return an error, so that they are not acknowledged unhandled.
func (s *Store) Record(ctx context.Context, ev *busifavor.CouponEvent) error {
	if ev.EventType != busifavor.EventTypeCouponSend {
		return fmt.Errorf("event %s: type %q is not handled here, so it is not acknowledged", ev.ID, ev.EventType)
	}
	if ev.Coupon == nil { // the parser always decodes a COUPON.SEND's coupon; an event built by hand may lack it
		return fmt.Errorf("event %s: a COUPON.SEND without its coupon is not acknowledged", ev.ID)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("event %s: beginning the transaction: %w", ev.ID, err)
	}
	defer tx.Rollback() // after Commit, a no-op
	res, err := tx.ExecContext(ctx, insertInbox, ev.ID, string(ev.EventType), time.Now().UTC())
	if err != nil {
		return fmt.Errorf("event %s: inserting its inbox row: %w", ev.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("event %s: inserting its inbox row: %w", ev.ID, err)
	}
	if n == 0 {
		s.Log.InfoContext(ctx, "coupon event already recorded", "event", ev)
		return nil
	}
	c := ev.Coupon
	if _, err := tx.ExecContext(ctx, insertCouponSend, ev.ID, c.StockID, c.CouponCode, c.OpenID, c.SendTime, string(c.SendChannel)); err != nil {
		return fmt.Errorf("event %s: inserting its coupon_sends row: %w", ev.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("event %s: committing: %w", ev.ID, err)
	}
	s.Log.InfoContext(ctx, "coupon event recorded", "event", ev)
	return nil
}

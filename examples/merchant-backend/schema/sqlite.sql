-- The merchant backend's tables on SQLite. Run at every start-up: every
-- statement is safe to run again. Times are text as the driver writes them
-- (2025-03-25 10:30:00+08:00), which SQLite's date functions read.

-- inbox holds the id of every event whose effect was committed: written in
-- the same transaction as the effect, its primary key makes a second
-- delivery of the same event find the first and change nothing.
CREATE TABLE IF NOT EXISTS inbox (
    event_id    TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL -- UTC
);

-- coupon_sends is the effect: one row per COUPON.SEND event (a coupon a
-- user received). openid is empty unless the stock was created with
-- notify_appid.
CREATE TABLE IF NOT EXISTS coupon_sends (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL REFERENCES inbox (event_id),
    stock_id     TEXT NOT NULL,
    coupon_code  TEXT NOT NULL,
    openid       TEXT NOT NULL,
    send_time    TIMESTAMP NOT NULL, -- in WeChat Pay's zone (+08:00), as sent
    send_channel TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS coupon_sends_stock_code ON coupon_sends (stock_id, coupon_code);

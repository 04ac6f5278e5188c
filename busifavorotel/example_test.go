package busifavorotel_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavorotel"
	"github.com/busifavor-go/busifavor/busifavortest"
)

// One Observer goes into the client, the parser and Deduplicate. Here it
// records into memory; in production leave the options out of New and it
// uses the global providers your OpenTelemetry setup installed.
func Example() {
	spans := tracetest.NewSpanRecorder()
	obs := busifavorotel.New(busifavorotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))))

	fake := busifavortest.NewServer(busifavortest.WithNotifyURL(busifavortest.DefaultMchID, "https://example.com/busifavor/notify"))
	defer fake.Close()
	client, err := fake.Client(busifavor.WithObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	parser, err := busifavor.NewEventParser(fake.APIv3Key(), fake.Verifier(), busifavor.WithEventObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	store, err := busifavor.NewMemoryDeduplicator(10000, busifavor.WithDoneTTL(time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	record, err := busifavor.Deduplicate(store, func(ctx context.Context, ev *busifavor.CouponEvent) error {
		return nil // record the event; spans started from ctx nest in the event's
	}, busifavor.WithDedupObserver(obs))
	if err != nil {
		log.Fatal(err)
	}
	handler := busifavor.NewEventHandler(parser, record)

	if _, err := client.GetCallbacks(context.Background(), busifavor.GetCallbacksRequest{}); err != nil {
		log.Fatal(err)
	}
	backend := httptest.NewServer(handler)
	defer backend.Close()
	resp, err := fake.SendCouponEvent(context.Background(), backend.URL, busifavor.CouponSend{CouponCode: "CODE-0001", StockID: "1200000001", OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"})
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()

	for _, s := range spans.Ended() {
		fmt.Println(s.Name(), s.SpanKind())
	}
	// Output:
	// busifavor/GetCallbacks client
	// busifavor/event consumer
}

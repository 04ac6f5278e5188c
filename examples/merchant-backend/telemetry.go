package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"

	"github.com/busifavor-go/busifavor"
	"github.com/busifavor-go/busifavor/busifavorotel"
)

// observer returns the Observer for the client, the parser and the
// deduplicator, and what flushes its spans at exit. OTEL_TRACES_EXPORTER
// (OpenTelemetry's own variable) picks it: console prints each span as a
// JSON line on w; unset or none, nothing is observed. This example carries
// no OTLP exporter: otlptracehttp would add gRPC and protobuf to its
// dependencies (README.md, Observing it, shows the two lines to add in
// your service), so OTEL_EXPORTER_OTLP_ENDPOINT alone gets a warning.
func observer(env func(string) string, w io.Writer, logger *slog.Logger) (busifavor.Observer, func(context.Context) error, error) {
	switch exporter := env("OTEL_TRACES_EXPORTER"); exporter {
	case "", "none":
		if exporter == "" && env("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
			logger.Warn("OTEL_EXPORTER_OTLP_ENDPOINT is set, but this example has no OTLP exporter (see README.md, Observing it); " +
				"OTEL_TRACES_EXPORTER=console prints the spans on stdout")
		}
		return nil, func(context.Context) error { return nil }, nil
	case "console":
		exp, err := stdouttrace.New(stdouttrace.WithWriter(w))
		if err != nil {
			return nil, nil, err
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
			sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("merchant-backend"))))
		// Global, so that the spans Record starts (backend.go) go there too.
		otel.SetTracerProvider(tp)
		return busifavorotel.New(), tp.Shutdown, nil
	}
	return nil, nil, fmt.Errorf("OTEL_TRACES_EXPORTER=%q: this example knows console and none", env("OTEL_TRACES_EXPORTER"))
}

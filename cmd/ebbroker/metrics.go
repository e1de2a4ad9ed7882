package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ebwrk/ebwrk/internal/metrics"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// metricsHook returns the OnEvent hook that feeds rec, on the broker's goroutine.
func metricsHook(rec *metrics.Recorder) func(zmq.Event) {
	return func(e zmq.Event) {
		if e.Undeliverable == nil {
			rec.Observe(&e.Output)
		}
	}
}

// serveMetrics serves /metrics (Prometheus) and /healthz for b on addr and returns
// the address bound and a function that stops the server.
func serveMetrics(addr string, b *zmq.Broker, rec *metrics.Recorder, log *slog.Logger) (string, func(), error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(metrics.NewCollector(b, rec)); err != nil {
		return "", nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--metrics %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server failed", slog.String("err", err.Error()))
		}
	}()
	log.Info("metrics listening", slog.String("address", ln.Addr().String()))
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("metrics server stop", slog.String("err", err.Error()))
		}
		<-done
	}
	return ln.Addr().String(), stop, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kelseyhightower/envconfig"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"
)

type Config struct {
	DatabaseURL string `envconfig:"DATABASE_URL" required:"true"`
	Addr        string `envconfig:"ADDR" default:":8080"`
}

type server struct {
	pool    *pgxpool.Pool
	log     *slog.Logger
	limiter *rate.Limiter
}

func (s *server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		w.Header().Set("X-Request-ID", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Strict-Transport-Security", "max-age=63072000")
		if !s.limiter.Allow() {
			http.Error(w, `{"error":"rate_limited"}`, http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	var balance int64
	err := s.pool.QueryRow(ctx, "SELECT balance FROM accounts WHERE id = $1", r.URL.Query().Get("id")).Scan(&balance)
	if err != nil {
		s.log.Error("account lookup failed", "err", err)
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": "not_found"})
		return
	}
	json.NewEncoder(w).Encode(map[string]int64{"balance": balance})
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	var cfg Config
	if err := envconfig.Process("", &cfg); err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	pool, err := pgxpool.New(context.Background(), cfg.DatabaseURL)
	if err != nil {
		log.Error("database", "err", err)
		os.Exit(1)
	}
	s := &server{pool: pool, log: log, limiter: rate.NewLimiter(100, 200)}
	mux := http.NewServeMux()
	mux.HandleFunc("/accounts", s.account)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("/metrics", promhttp.Handler())
	srv := &http.Server{Addr: cfg.Addr, Handler: s.requestID(mux), ReadTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("listen", "err", err)
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Error("shutdown", "err", err)
	}
	pool.Close()
}

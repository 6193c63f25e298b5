package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/crmplatform/crm/engine"
	"github.com/crmplatform/crm/engine/access"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where the server answers with its Prometheus metrics.
const MetricsPath = "/metrics"

// metrics are the figures /metrics shows, in a registry of their own (one
// per server, so several servers in one process never collide).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// newMetrics registers the request figures, the database pool's
// (go_sql_*), the job queue's (crm_jobs), and the Go runtime's and the
// process's.
func newMetrics(eng *engine.Engine) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "crm_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crm_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by method, route pattern and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "crm_http_requests_in_flight",
			Help: "HTTP requests being worked on now.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.inFlight,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(eng.DB().SQL(), eng.DB().Dialect), jobsCollector{eng: eng})
	return m
}

// jobsDesc describes the job queue's figure.
var jobsDesc = prometheus.NewDesc("crm_jobs", "Background jobs by kind and state (pending: the queue's depth, due or scheduled; running; failed), finished ones left out.",
	[]string{"kind", "state"}, nil)

// jobsCollector counts the jobs in crm_jobs when metrics are gathered.
type jobsCollector struct{ eng *engine.Engine }

// Describe sends the description of crm_jobs.
func (j jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

// Collect counts the jobs by kind and state; when the database does not
// answer within PingTimeout, it reports an invalid metric (the scrape
// fails with the error) rather than no jobs.
func (j jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), PingTimeout)
	defer cancel()
	counts, err := j.eng.Jobs().Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(c.N), c.Kind, string(c.State))
	}
}

// observe is the outermost middleware: it answers errors (so the status
// is known), then counts the request in the metrics and writes one
// structured log line for it: method, path, route, status, duration,
// bytes, request id, user and client address. Requests for the metrics
// and the probes are counted but not logged.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	took := time.Since(start)
	status := c.Response().StatusCode()
	route := c.Route().Path
	code := strconv.Itoa(status)
	s.metrics.requests.WithLabelValues(c.Method(), route, code).Inc()
	s.metrics.latency.WithLabelValues(c.Method(), route, code).Observe(took.Seconds())
	if route == MetricsPath || strings.HasPrefix(route, "/api/health") || strings.HasPrefix(route, "/api/ready") {
		return nil
	}
	level := slog.LevelInfo
	if status >= fiber.StatusInternalServerError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", c.Method()), slog.String("path", c.Path()), slog.String("route", route),
		slog.Int("status", status), slog.Float64("ms", float64(took.Microseconds())/1000),
		slog.Int("bytes", len(c.Response().Body())), slog.String("request_id", c.GetRespHeader(fiber.HeaderXRequestID)),
		slog.String("ip", s.clientIP(c)),
	}
	if p, ok := access.FromContext(c.UserContext()); ok {
		attrs = append(attrs, slog.String("user_id", p.UserID))
	}
	s.log.LogAttrs(c.UserContext(), level, "request", attrs...)
	return nil
}

// metricsRoute mounts GET /metrics: Prometheus' text format for whoever
// sends Authorization: Bearer with the metrics token (Config.MetricsToken)
// or, without a token configured, for a client on the loopback interface
// that came through no proxy (no X-Forwarded-For or Forwarded header);
// anyone else gets 403.
func (s *Server) metricsRoute(r fiber.Router) {
	handler := adaptor.HTTPHandler(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{s.log}}))
	r.Get(MetricsPath, func(c *fiber.Ctx) error {
		if !s.mayScrape(c) {
			return &apiError{status: fiber.StatusForbidden, code: "forbidden",
				message: "metrics are shown to clients on this machine, or to any sending the token CRM_METRICS_TOKEN as Authorization: Bearer"}
		}
		return handler(c)
	})
}

// mayScrape reports whether the request may read the metrics.
func (s *Server) mayScrape(c *fiber.Ctx) bool {
	if s.metricsToken != "" {
		token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		return ok && subtle.ConstantTimeCompare([]byte(token), []byte(s.metricsToken)) == 1
	}
	if c.Get(fiber.HeaderXForwardedFor) != "" || c.Get("Forwarded") != "" {
		return false
	}
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	return ok && peer.Unmap().IsLoopback()
}

// slogPrinter lets promhttp report errors of gathering to the server's
// log.
type slogPrinter struct{ log *slog.Logger }

// Println logs the values as an error.
func (p slogPrinter) Println(v ...any) {
	p.log.Error("metrics", "err", fmt.Sprint(v...))
}

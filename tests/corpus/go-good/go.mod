module example.com/ledger

go 1.22

require (
	github.com/jackc/pgx/v5 v5.5.5
	github.com/kelseyhightower/envconfig v1.4.0
	github.com/prometheus/client_golang v1.19.0
	golang.org/x/time v0.5.0
)

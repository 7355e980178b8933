package main
import (
 _ "github.com/spf13/cobra"
 _ "github.com/pressly/goose/v3"
 _ "github.com/jackc/pgx/v5/stdlib"
 _ "modernc.org/sqlite"
 _ "golang.org/x/crypto/argon2"
 _ "golang.org/x/oauth2"
 _ "github.com/chromedp/chromedp"
 _ "github.com/google/go-cmp/cmp"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "gopkg.in/yaml.v3"
 _ "golang.org/x/time/rate"
)
func main(){}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/auditexport/auditexport/exporter"
	"github.com/auditexport/auditexport/schema"
	"github.com/auditexport/auditexport/sinks"
)

// Config is the whole configuration: defaults, then the YAML file, then
// AUDITEXPORT_* environment variables, then flags. Every leaf setting has a
// YAML key (its dotted path), an environment variable and a flag; see
// settings.go. Credentials never live here: they come from each cloud SDK's
// default chain, or from the environment.
type Config struct {
	Source       SourceConfig       `yaml:"source"`
	Destination  DestinationConfig  `yaml:"destination"`
	Schema       SchemaConfig       `yaml:"schema"`
	Partitioning PartitioningConfig `yaml:"partitioning"`
	Parquet      ParquetConfig      `yaml:"parquet"`
	Dedup        DedupConfig        `yaml:"dedup"`
	Rejects      RejectsConfig      `yaml:"rejects"`
	Run          RunConfig          `yaml:"run"`
	Log          LogConfig          `yaml:"log"`
	Backfill     BackfillConfig     `yaml:"backfill"`
	Schedule     ScheduleConfig     `yaml:"schedule"`
	Metrics      MetricsConfig      `yaml:"metrics"`
}

type DestinationConfig struct {
	URL    string              `yaml:"url" help:"bucket URL or local directory for the archive (s3://, gs://, azblob://, file://, mem:// or a path)"`
	Prefix string              `yaml:"prefix" help:"key prefix of the archive inside destination.url"`
	S3     S3DestinationConfig `yaml:"s3"`
}

// S3DestinationConfig is the server-side encryption of an s3:// archive.
// GCS and Azure encrypt with a key set on the bucket, account or container;
// there is nothing to configure here for them.
type S3DestinationConfig struct {
	SSE      string `yaml:"sse" help:"server-side encryption of every object written to an s3:// destination: AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse (DSSE-KMS); empty: the bucket's default encryption"`
	KMSKeyID string `yaml:"kms_key_id" help:"KMS key ID, alias or ARN for destination.s3.sse aws:kms or aws:kms:dsse; empty: the AWS managed key aws/s3"`
}

// validateS3 checks the S3 encryption settings against each other and the URL.
func (d *DestinationConfig) validateS3() []error {
	var errs []error
	bad := func(setting, value, problem string) {
		errs = append(errs, &ConfigError{Setting: setting, Value: value, Problem: problem})
	}
	s3 := d.S3
	if s3 == (S3DestinationConfig{}) {
		return nil
	}
	sse, ok := sinks.NormS3EncryptionType(s3.SSE)
	if s3.SSE != "" && !ok {
		bad("destination.s3.sse", s3.SSE, "must be "+strings.Join(sinks.S3EncryptionTypes(), ", ")+", or empty for the bucket's default encryption")
	}
	if s3.KMSKeyID != "" && (s3.SSE == "" || ok && sse != sinks.SSEKMS && sse != sinks.SSEKMSDSSE) {
		bad("destination.s3.kms_key_id", s3.KMSKeyID, "needs destination.s3.sse aws:kms or aws:kms:dsse")
	}
	u, err := url.Parse(d.URL)
	switch {
	case d.URL == "":
	case err != nil || !strings.EqualFold(u.Scheme, "s3"):
		key := "destination.s3.sse"
		if s3.SSE == "" {
			key = "destination.s3.kms_key_id"
		}
		bad(key, "", "applies to s3:// destinations only; GCS and Azure encrypt with the key set on the bucket, account or container (see the README)")
	case u.Query().Has("ssetype") || u.Query().Has("kmskeyid"):
		bad("destination.url", "", "sets ssetype= or kmskeyid= as well as destination.s3.*; give the encryption once")
	}
	return errs
}

type SchemaConfig struct {
	Strict     bool             `yaml:"strict" help:"fail on a header that is neither a catalog column nor in schema.columns, instead of keeping it as a derived string column"`
	TimeColumn string           `yaml:"time_column" help:"column ID of the event time"`
	Columns    []schema.Mapping `yaml:"columns" help:"the org's own mapping: renamed friendly names and extra columns (YAML only)"`
}

type PartitioningConfig struct {
	TimeZone   string `yaml:"timezone" help:"IANA zone whose calendar date names the event_date partition"`
	ByCategory bool   `yaml:"by_category" help:"add an event_category=<category> sub-partition"`
}

type ParquetConfig struct {
	Compression      string `yaml:"compression" help:"zstd, snappy, gzip, lz4_raw (or lz4) or none (or uncompressed)"`
	CompressionLevel int    `yaml:"compression_level" help:"codec level for zstd (1-22) or gzip (1-9), for every column; 0 is the codec's default (zstd: 3, and 1 for plain string columns such as IDs)"`
	RowGroupRows     int    `yaml:"row_group_rows" help:"rows per row group; each worker holds one row group's pages and dictionaries in memory until it is complete"`
	TargetFileSize   string `yaml:"target_file_size" help:"roll a new file once one reaches this size (e.g. 256MiB)"`
	LowerCaseColumns bool   `yaml:"lower_case_columns" help:"name columns event_type instead of EVENT_TYPE"`
}

type DedupConfig struct {
	Key []string `yaml:"key" help:"column IDs whose values identify an event; empty: EVENT_ID where present, else a fingerprint of the whole row"`
}

type RejectsConfig struct {
	MaxRows     int64   `yaml:"max_rows" help:"fail the run when more rows than this are rejected; -1 for no limit"`
	MaxFraction float64 `yaml:"max_fraction" help:"fail the run when more than this fraction (0..1) of the rows read is rejected"`
}

type RunConfig struct {
	Lookback      time.Duration `yaml:"lookback" help:"how far before the archive's watermark (its latest committed event) a run asks a table for rows, so late rows land; older rows of a Sigma export are still deduplicated and written if new"`
	MaxFutureSkew time.Duration `yaml:"max_future_skew" help:"how far past the run's clock an event time may be; a later one is rejected (a clock skew, a wrong offset) and never moves the watermark"`
	WorkDir       string        `yaml:"work_dir" help:"directory for the run's temporary spill and Parquet files (default: the system temp dir)"`
	StagingGrace  time.Duration `yaml:"staging_grace" help:"age after which staged files of a run that died before its commit are removed"`
	MemoryLimit   string        `yaml:"memory_limit" help:"soft limit of the Go heap (e.g. 176MiB): the garbage collector works harder as the heap nears it, so a large export keeps a steady footprint; 0: no limit; the GOMEMLIMIT environment variable, when set, wins"`
	Workers       int           `yaml:"workers" help:"partitions deduplicated and encoded at once; each costs memory (two column batches, a buffered row group); 0: one per CPU the process may use"`
}

type LogConfig struct {
	Level  string `yaml:"level" help:"debug, info, warn or error"`
	Format string `yaml:"format" help:"text, json, or auto (text on a terminal, json otherwise)"`
}

type BackfillConfig struct {
	Shards int `yaml:"shards" help:"split a backfill's days into this many contiguous blocks, one per shard (a Kubernetes Indexed Job's completions); the shard index comes from --shard i/n or JOB_COMPLETION_INDEX; 0: not sharded"`
}

type ScheduleConfig struct {
	Cron   string        `yaml:"cron" help:"when the schedule command runs an export: a cron spec (minute hour day-of-month month day-of-week, e.g. '30 6 * * *') or a descriptor (@daily, @every 6h), optionally prefixed by CRON_TZ=<zone>"`
	Jitter time.Duration `yaml:"jitter" help:"delay each scheduled run by a random time up to this long (e.g. 10m); 0: none"`
	Listen string        `yaml:"listen" help:"address of the schedule command's /healthz, /readyz and /metrics (e.g. :9090); empty: no HTTP server"`
	// RunOnStart makes a new scheduler export at once, so a fresh
	// deployment does not wait for the next time of the spec.
	RunOnStart bool `yaml:"run_on_start" help:"run one export as soon as the schedule command starts, then at each time of schedule.cron (never two at once)"`
}

type MetricsConfig struct {
	PushgatewayURL string `yaml:"pushgateway_url" help:"Prometheus Pushgateway that run and backfill push their metrics to when they end (e.g. http://pushgateway:9091); empty: no push"`
	PushgatewayJob string `yaml:"pushgateway_job" help:"job label of the pushed metrics"`
}

// defaultConfig is the configuration before any file, env or flag.
func defaultConfig() Config {
	return Config{
		Source:       defaultSourceConfig(),
		Schema:       SchemaConfig{TimeColumn: "TIMESTAMP"},
		Partitioning: PartitioningConfig{TimeZone: "UTC"},
		Parquet: ParquetConfig{
			Compression:    "zstd",
			RowGroupRows:   64 * 1024,
			TargetFileSize: "256MiB",
		},
		Rejects: RejectsConfig{MaxRows: -1, MaxFraction: 0.01},
		Run:     RunConfig{Lookback: 72 * time.Hour, MaxFutureSkew: exporter.DefaultMaxFutureSkew, StagingGrace: 24 * time.Hour, MemoryLimit: "176MiB"},
		Log:     LogConfig{Level: "info", Format: "auto"},

		Schedule: ScheduleConfig{Listen: ":9090"},
		Metrics:  MetricsConfig{PushgatewayJob: "auditexport"},
	}
}

// loadYAML decodes a config file strictly: an unknown key is an error that
// names it, so a typo never silently falls back to a default.
func loadYAML(path string, c *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ConfigError{Setting: "--config", Value: path, Problem: "cannot read the file: " + err.Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return &ConfigError{Setting: "--config", Value: path, Problem: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return nil
}

// ConfigError names the setting, the bad value and what is wrong with it.
type ConfigError struct {
	Setting string
	Value   string
	Problem string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Setting, e.Problem)
	}
	return fmt.Sprintf("%s %q: %s", e.Setting, e.Value, e.Problem)
}

var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// validate checks every setting and returns all problems at once.
func (c *Config) validate(origin map[string]string) error {
	var errs []error
	bad := func(setting, value, problem string) {
		errs = append(errs, &ConfigError{Setting: setting, Value: value, Problem: problem})
	}
	errs = append(errs, c.Source.validate(c, origin)...)
	if c.Destination.URL == "" {
		bad("destination.url", "", "is required (e.g. s3://archive-bucket or ./out)")
	}
	errs = append(errs, c.Destination.validateS3()...)
	for _, z := range []struct{ key, v string }{{"source.timezone", c.Source.TimeZone}, {"partitioning.timezone", c.Partitioning.TimeZone}} {
		if _, err := time.LoadLocation(z.v); err != nil || z.v == "" {
			bad(z.key, z.v, "is not an IANA time zone (e.g. UTC, America/New_York)")
		}
	}
	if !idPattern.MatchString(c.Schema.TimeColumn) {
		bad("schema.time_column", c.Schema.TimeColumn, "must be a column ID in upper snake case (e.g. TIMESTAMP)")
	}
	for i, k := range c.Dedup.Key {
		if !idPattern.MatchString(k) {
			bad(fmt.Sprintf("dedup.key[%d]", i), k, "must be a column ID in upper snake case (e.g. EVENT_ID)")
		}
	}
	if _, err := exporter.ParseCodec(c.Parquet.Compression); err != nil {
		bad("parquet.compression", c.Parquet.Compression, "must be "+exporter.CodecNames)
	}
	if l := c.Parquet.CompressionLevel; l < 0 || l > 22 {
		bad("parquet.compression_level", fmt.Sprint(l), "must be 0 (codec default) to 22")
	}
	if c.Parquet.RowGroupRows < 1 || c.Parquet.RowGroupRows > 16<<20 {
		bad("parquet.row_group_rows", fmt.Sprint(c.Parquet.RowGroupRows), "must be between 1 and 16777216")
	}
	if n, err := parseSize(c.Parquet.TargetFileSize); err != nil {
		bad("parquet.target_file_size", c.Parquet.TargetFileSize, err.Error())
	} else if n < 1<<20 {
		bad("parquet.target_file_size", c.Parquet.TargetFileSize, "must be at least 1MiB")
	}
	if c.Rejects.MaxRows < -1 {
		bad("rejects.max_rows", fmt.Sprint(c.Rejects.MaxRows), "must be -1 (no limit) or >= 0")
	}
	if f := c.Rejects.MaxFraction; math.IsNaN(f) || f < 0 || f > 1 {
		bad("rejects.max_fraction", fmt.Sprint(f), "must be between 0 and 1")
	}
	if c.Run.Lookback < 0 {
		bad("run.lookback", c.Run.Lookback.String(), "must not be negative")
	}
	if c.Run.MaxFutureSkew < time.Second || c.Run.MaxFutureSkew > 24*time.Hour {
		bad("run.max_future_skew", c.Run.MaxFutureSkew.String(), "must be between 1s and 24h")
	}
	if c.Run.StagingGrace < time.Hour {
		bad("run.staging_grace", c.Run.StagingGrace.String(), "must be at least 1h (longer than any run stays between staging and commit)")
	}
	if n, err := parseSize(c.Run.MemoryLimit); err != nil {
		bad("run.memory_limit", c.Run.MemoryLimit, err.Error())
	} else if n != 0 && n < 32<<20 {
		bad("run.memory_limit", c.Run.MemoryLimit, "must be 0 (no limit) or at least 32MiB")
	}
	if c.Run.Workers < 0 || c.Run.Workers > 256 {
		bad("run.workers", fmt.Sprint(c.Run.Workers), "must be between 0 (one per CPU) and 256")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", c.Log.Level, "must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "auto", "text", "json":
	default:
		bad("log.format", c.Log.Format, "must be auto, text or json")
	}
	if u := c.Destination.URL; u != "" {
		if sinks.HasPassword(u) {
			bad("destination.url", "", "holds a password (in its user info or in its endpoint= parameter); credentials come from the environment or the cloud SDK's default credential chain, never from a URL")
		} else if err := sinks.CheckBucketURL(u); err != nil {
			bad("destination.url", sinks.Redact(u), err.Error()+" (e.g. s3://archive-bucket?endpoint=http://127.0.0.1:7070&region=us-east-1)")
		}
	}
	errs = append(errs, validateSchedule(&c.Schedule, origin)...)
	errs = append(errs, validateMetrics(&c.Metrics, origin)...)
	errs = append(errs, validateBackfill(&c.Backfill)...)
	return errors.Join(errs...)
}

// parseSize reads a byte size: a number with an optional unit B, KB, MB,
// GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			mult, t = u.mult, strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(t, &n); err != nil || n < 0 || fmt.Sprint(n) != t {
		return 0, errors.New("is not a size (e.g. 256MiB, 64MB, 1048576)")
	}
	return n * mult, nil
}

func hasUserinfoPassword(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}

// exporterParquet converts the parquet settings.
func (c *Config) exporterParquet() exporter.ParquetOptions {
	n, _ := parseSize(c.Parquet.TargetFileSize)
	return exporter.ParquetOptions{
		Compression:      strings.ToLower(c.Parquet.Compression),
		CompressionLevel: c.Parquet.CompressionLevel,
		RowGroupRows:     c.Parquet.RowGroupRows,
		TargetFileBytes:  n,
		LowerCaseColumns: c.Parquet.LowerCaseColumns,
	}
}

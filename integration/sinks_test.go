package integration

import (
	"testing"

	"github.com/auditexport/auditexport/sinks"
	"github.com/auditexport/auditexport/sinks/sinktest"
)

// runConformance runs the sinks conformance suite against one fresh bucket,
// opened once through sinks.Open with the URL form users write.
func runConformance(t *testing.T, url string) {
	t.Helper()
	b, err := sinks.Open(setupCtx(t), url, sinks.OpenOptions{})
	if err != nil {
		t.Fatalf("sinks.Open(%s): %v", url, err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Check(setupCtx(t)); err != nil {
		t.Fatalf("Check %s: %v", url, err)
	}
	sinktest.Run(t, func(*testing.T) *sinks.Bucket { return b })
}

func TestSinksS3(t *testing.T) {
	_, url := newS3Bucket(t)
	runConformance(t, url)
}

func TestSinksGCS(t *testing.T) {
	_, url := newGCSBucket(t)
	runConformance(t, url)
}

func TestSinksAzure(t *testing.T) {
	_, url := newAzureContainer(t)
	runConformance(t, url)
}

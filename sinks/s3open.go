package sinks

// S3 opening.
//
// gocloud's s3blob.URLOpener loads the AWS config with the SDK's default
// logger, which prints to the process's stderr (a "falling back to IMDSv1"
// warning wherever the instance metadata endpoint refuses a token), and
// it finds out that there are no credentials only on the first request,
// as an error whose outermost HTTP status is the metadata endpoint's 403:
// it reads as a missing s3:ListBucket permission. This opener reads the
// same URL parameters as gocloud's (s3Params), loads the config with a
// silent logger, and resolves the credentials once at Open, so that "no
// credentials" is ErrCredentials naming where the SDK looks, before any
// request. An anonymous=true URL skips that.

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	awsretry "github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"
)

// awsCredentialPlaces is where the AWS SDK's default chain looks for
// credentials, in its order.
const awsCredentialPlaces = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; " +
	"AWS_PROFILE (or the default profile) in ~/.aws/credentials and ~/.aws/config, with SSO or credential_process; " +
	"AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (EKS IRSA); " +
	"the ECS or EKS Pod Identity container endpoint; the EC2 instance role (IMDS)"

// s3Options is what an s3:// URL's parameters ask for.
type s3Options struct {
	blob      s3blob.Options
	client    []func(*s3.Options)
	load      []func(*config.LoadOptions) error
	endpoint  string
	immutable bool
	roleARN   string
	anonymous bool
	rateLimit int64
}

// whenSupported reads a checksum parameter: when_supported (true) or
// when_required (false), in any case.
func whenSupported(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "when_supported":
		return true, nil
	case "when_required":
		return false, nil
	}
	return false, fmt.Errorf("%s=%s: use when_supported or when_required", name, v)
}

// s3Params reads the parameters gocloud's s3blob accepts (see doc.go),
// refusing any other: the same names and values, read without opening
// anything, so that a configuration is checked before a run.
func s3Params(q url.Values) (*s3Options, error) {
	o := &s3Options{}
	boolean := func(name, v string) (bool, error) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("%s=%s is not a boolean (true or false)", name, v)
		}
		return b, nil
	}
	for name, vs := range q {
		v := vs[0]
		var err error
		var b bool
		switch name {
		case sseTypeParam:
			if _, ok := NormS3EncryptionType(v); !ok {
				return nil, fmt.Errorf("server-side encryption type %q: use %s", v, strings.Join(S3EncryptionTypes(), ", "))
			}
			t, _ := NormS3EncryptionType(v)
			o.blob.EncryptionType = s3types.ServerSideEncryption(t)
		case kmsKeyIDParam:
			o.blob.KMSEncryptionID = v
		case "accelerate":
			if b, err = boolean(name, v); err == nil {
				o.client = append(o.client, func(so *s3.Options) { so.UseAccelerate = b })
			}
		case "disable_https":
			if b, err = boolean(name, v); err == nil {
				o.client = append(o.client, func(so *s3.Options) { so.EndpointOptions.DisableHTTPS = b })
			}
		case "use_path_style", "s3ForcePathStyle":
			if b, err = boolean(name, v); err == nil {
				o.client = append(o.client, func(so *s3.Options) { so.UsePathStyle = b })
			}
		case "hostname_immutable":
			o.immutable, err = boolean(name, v)
		case "region":
			o.load = append(o.load, config.WithRegion(v))
		case "endpoint":
			o.endpoint = v
		case "profile":
			o.load = append(o.load, config.WithSharedConfigProfile(v))
		case "dualstack":
			if b, err = boolean(name, v); err == nil && b {
				o.load = append(o.load, config.WithUseDualStackEndpoint(aws.DualStackEndpointStateEnabled))
			}
		case "fips":
			if b, err = boolean(name, v); err == nil && b {
				o.load = append(o.load, config.WithUseFIPSEndpoint(aws.FIPSEndpointStateEnabled))
			}
		case "rate_limiter_capacity":
			if o.rateLimit, err = strconv.ParseInt(v, 10, 32); err != nil {
				err = fmt.Errorf("%s=%s is not an integer", name, v)
			}
		case "anonymous":
			o.anonymous, err = boolean(name, v)
		case "role":
			if !strings.HasPrefix(v, "arn:") {
				err = fmt.Errorf("role=%s is not a role ARN (arn:aws:iam::<account>:role/<name>)", v)
			}
			o.roleARN = v
		case "request_checksum_calculation":
			if b, err = whenSupported(name, v); err == nil {
				c := aws.RequestChecksumCalculationWhenRequired
				if b {
					c = aws.RequestChecksumCalculationWhenSupported
				}
				o.load = append(o.load, config.WithRequestChecksumCalculation(c))
			}
		case "response_checksum_validation":
			if b, err = whenSupported(name, v); err == nil {
				c := aws.ResponseChecksumValidationWhenRequired
				if b {
					c = aws.ResponseChecksumValidationWhenSupported
				}
				o.load = append(o.load, config.WithResponseChecksumValidation(c))
			}
		case "awssdk": // gocloud's SDK version switch; v2 is the only one
		default:
			return nil, newParamError("s3", name)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.anonymous {
		o.load = append(o.load, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	}
	return o, nil
}

type s3Opener struct{}

func (s3Opener) OpenBucketURL(ctx context.Context, u *url.URL) (*blob.Bucket, error) {
	o, err := s3Params(u.Query())
	if err != nil {
		return nil, errorf(ErrInvalid, "%v", err)
	}
	quiet := config.WithLogger(logging.Nop{})
	var limiter awsretry.RateLimiter = ratelimit.None
	if o.rateLimit > 0 {
		limiter = ratelimit.NewTokenRateLimit(uint(o.rateLimit))
	}
	retryer := config.WithRetryer(func() aws.Retryer {
		return awsretry.NewStandard(func(so *awsretry.StandardOptions) { so.RateLimiter = limiter })
	})
	load := append(o.load, quiet, retryer)
	if o.roleARN != "" {
		base, err := config.LoadDefaultConfig(ctx, append(o.load, quiet)...)
		if err != nil {
			return nil, errorf(ErrInvalid, "AWS config: %v", err)
		}
		if base.Region == "" {
			return nil, errorf(ErrInvalid, "role= needs a region (region= or AWS_REGION) to call STS")
		}
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), o.roleARN)
		load = []func(*config.LoadOptions) error{config.WithCredentialsProvider(provider), config.WithRegion(base.Region), quiet, retryer}
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, errorf(ErrInvalid, "AWS config: %v", err)
	}
	if !o.anonymous {
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, errorf(ErrCredentials, "no AWS credentials found; the AWS SDK looks in: %s (or use anonymous=true for a public bucket)", awsCredentialPlaces)
		}
	}
	if o.endpoint != "" {
		// As gocloud does: the endpoint, signed for the bucket's region.
		endpoint, immutable := o.endpoint, o.immutable
		cfg.EndpointResolverWithOptions = aws.EndpointResolverWithOptionsFunc(
			func(service, region string, options ...any) (aws.Endpoint, error) {
				return aws.Endpoint{PartitionID: "aws", URL: endpoint, SigningRegion: region, HostnameImmutable: immutable}, nil
			})
	}
	client := s3.NewFromConfig(cfg, o.client...)
	o.blob.RequestChecksumCalculation = cfg.RequestChecksumCalculation
	return s3blob.OpenBucket(ctx, client, u.Host, &o.blob)
}

package emulator

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// The Lambda layer answers versions and aliases as the Lambda API reference
// describes them, with AWS's errors.
func TestLambdaLayer(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	body := []byte(`{"FunctionName":"orders","Runtime":"provided.al2023","Role":"arn:aws:iam::000000000000:role/x","Handler":"bootstrap","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/2015-03-31/functions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("CreateFunction: %v %v", err, resp)
	}
	c := lambda.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(e.URL)
		o.RetryMaxAttempts = 1
	})
	ctx := context.Background()
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}
	for want := 1; want <= 2; want++ {
		v, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("orders")})
		if err != nil || aws.ToString(v.Version) != string(rune('0'+want)) {
			t.Fatalf("PublishVersion %d: %v %v", want, v, err)
		}
	}
	if _, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Fatalf("PublishVersion of an unknown function: %v", err)
	}
	a, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String("1")})
	if err != nil || aws.ToString(a.AliasArn) == "" {
		t.Fatalf("CreateAlias: %v", err)
	}
	if _, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String("1")}); code(err) != "ResourceConflictException" {
		t.Fatalf("CreateAlias twice: %v", err)
	}
	routing := func(w map[string]float64) *types.AliasRoutingConfiguration {
		return &types.AliasRoutingConfiguration{AdditionalVersionWeights: w}
	}
	for name, c2 := range map[string]struct {
		version string
		weights map[string]float64
		code    string
	}{
		"unknown version":         {"9", nil, "ResourceNotFoundException"},
		"$LATEST in routing":      {"1", map[string]float64{"$LATEST": 0.1}, "InvalidParameterValueException"},
		"two additional versions": {"1", map[string]float64{"2": 0.1, "3": 0.1}, "InvalidParameterValueException"},
		"weight above 1":          {"1", map[string]float64{"2": 1.5}, "InvalidParameterValueException"},
		"routing to itself":       {"1", map[string]float64{"1": 0.5}, "InvalidParameterValueException"},
		"routing from $LATEST":    {"$LATEST", map[string]float64{"2": 0.5}, "InvalidParameterValueException"},
	} {
		_, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(c2.version), RoutingConfig: routing(c2.weights)})
		if code(err) != c2.code {
			t.Errorf("%s: %v, want %s", name, err, c2.code)
		}
	}
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), RoutingConfig: routing(map[string]float64{"2": 0.1})}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:orders"), Name: aws.String("live")})
	if err != nil || aws.ToString(got.FunctionVersion) != "1" || got.RoutingConfig == nil || got.RoutingConfig.AdditionalVersionWeights["2"] != 0.1 {
		t.Fatalf("GetAlias by ARN: %+v %v", got, err)
	}
	if _, err := c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String("2"), RoutingConfig: routing(map[string]float64{})}); err != nil {
		t.Fatal(err)
	}
	got, _ = c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
	if aws.ToString(got.FunctionVersion) != "2" || (got.RoutingConfig != nil && len(got.RoutingConfig.AdditionalVersionWeights) > 0) {
		t.Fatalf("after the last step: %+v", got)
	}
	if _, err := c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")}); code(err) != "ResourceNotFoundException" {
		t.Fatalf("GetAlias after delete: %v", err)
	}
	if e.Count("lambda:UpdateAlias") != 8 || e.Count("lambda:PublishVersion") != 3 {
		t.Errorf("counts %v", e.Counts())
	}
}

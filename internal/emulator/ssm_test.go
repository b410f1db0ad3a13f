package emulator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
)

// The Parameter Store layer, through the SDK: tags given on create, tags
// gone with their parameter, InvalidResourceId for a parameter that does
// not exist, and AWS's limits on names and value sizes.
func TestSSMLayer(t *testing.T) {
	e, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	c := ssm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, func(o *ssm.Options) {
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
	tags := func(name string) (map[string]string, error) {
		out, err := c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)})
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, t := range out.TagList {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		return m, nil
	}
	put := func(name, value string, tier ssmtypes.ParameterTier, tag bool) error {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString, Tier: tier}
		if tag {
			in.Tags = []ssmtypes.Tag{{Key: aws.String("rollout:owner"), Value: aws.String("me")}}
		}
		_, err := c.PutParameter(ctx, in)
		return err
	}

	if err := put("/flags/a", "{}", "", true); err != nil {
		t.Fatal(err)
	}
	if m, err := tags("/flags/a"); err != nil || m["rollout:owner"] != "me" {
		t.Fatalf("tags after a create with Tags: %v %v", m, err)
	}
	if _, err := tags("/flags/none"); code(err) != "InvalidResourceId" {
		t.Fatalf("tags of a parameter that does not exist: %v, want InvalidResourceId", err)
	}
	if _, err := c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String("/flags/none"),
		Tags: []ssmtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}); code(err) != "InvalidResourceId" {
		t.Fatalf("tagging a parameter that does not exist: %v, want InvalidResourceId", err)
	}
	if _, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/flags/a")}); err != nil {
		t.Fatal(err)
	}
	if err := put("/flags/a", "{}", "", false); err != nil {
		t.Fatal(err)
	}
	if m, err := tags("/flags/a"); err != nil || len(m) != 0 {
		t.Fatalf("a recreated parameter has its predecessor's tags: %v %v", m, err)
	}
	for _, c := range []struct {
		name, value string
		tier        ssmtypes.ParameterTier
		want        string
	}{
		{"/aws/x", "1", "", "ValidationException"},
		{"/SSM-things/x", "1", "", "ValidationException"},
		{"ssmx", "1", "", "ValidationException"},
		{"/" + strings.Repeat("a/", 15) + "x", "1", "", "HierarchyLevelLimitExceededException"},
		{"/flags/big", strings.Repeat("x", 4097), "", "ValidationException"},
		{"/flags/big", strings.Repeat("x", 4097), ssmtypes.ParameterTierAdvanced, ""},
		{"/flags/huge", strings.Repeat("x", 8193), ssmtypes.ParameterTierAdvanced, "ValidationException"},
		{"/flags/ok", strings.Repeat("x", 4096), "", ""},
	} {
		if err := put(c.name, c.value, c.tier, false); code(err) != c.want || (c.want == "" && err != nil) {
			t.Errorf("PutParameter %s (%d characters, tier %q): %v, want %q", c.name[:min(len(c.name), 20)], len(c.value), c.tier, err, c.want)
		}
	}
}

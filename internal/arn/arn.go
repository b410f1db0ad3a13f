// Package arn parses and checks Amazon Resource Names.
//
// It checks the parts of an ARN that identify what kind of resource it names —
// partition, service and resource type — and deliberately not the characters
// of resource ids, whose shape differs between AWS and API emulators.
package arn

import (
	"fmt"
	"strings"
)

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string
	Service   string
	Region    string
	AccountID string
	Resource  string
}

// Partitions lists the AWS partitions an ARN may name.
var Partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// Parse splits s into its six colon-separated parts. The resource part may
// itself contain colons.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN: an ARN has the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], AccountID: parts[4], Resource: parts[5]}
	if !knownPartition(a.Partition) {
		return ARN{}, fmt.Errorf("%q names the partition %q; allowed partitions are %s", s, a.Partition, strings.Join(Partitions, ", "))
	}
	if a.Service == "" {
		return ARN{}, fmt.Errorf("%q has an empty service part", s)
	}
	if a.Resource == "" {
		return ARN{}, fmt.Errorf("%q has an empty resource part", s)
	}
	return a, nil
}

func knownPartition(p string) bool {
	for _, k := range Partitions {
		if p == k {
			return true
		}
	}
	return false
}

// Kind describes one kind of resource: its service and the prefix of its
// resource part (for example "listener/app/" for an Application Load
// Balancer listener).
type Kind struct {
	Name           string // human name, used in messages
	Service        string
	ResourcePrefix string
	NeedsRegion    bool
	// MinSegments is the least number of "/"-separated segments after the
	// prefix (for example name/lb-id/listener-id is 3 for a listener).
	MinSegments int
	// Alternates are other prefixes the kind accepts (a Network Load
	// Balancer's listener beside an Application Load Balancer's).
	Alternates []string
	// Hints say why a resource part with a prefix is refused.
	Hints map[string]string
}

// Kinds of resources this provider refers to.
var (
	Listener = Kind{Name: "Application or Network Load Balancer listener", Service: "elasticloadbalancing", ResourcePrefix: "listener/app/", Alternates: []string{"listener/net/"}, NeedsRegion: true, MinSegments: 3,
		Hints: map[string]string{"listener/gwy/": "a Gateway Load Balancer's listener forwards to one target group and has no weights"}}
	ListenerRule = Kind{Name: "Application Load Balancer listener rule", Service: "elasticloadbalancing", ResourcePrefix: "listener-rule/app/", NeedsRegion: true, MinSegments: 4,
		Hints: map[string]string{"listener-rule/net/": "a Network Load Balancer's listener has no rules: set listener_arn to the listener itself"}}
	TargetGroup     = Kind{Name: "target group", Service: "elasticloadbalancing", ResourcePrefix: "targetgroup/", NeedsRegion: true, MinSegments: 2}
	LoadBalancer    = Kind{Name: "Application or Network Load Balancer", Service: "elasticloadbalancing", ResourcePrefix: "loadbalancer/app/", Alternates: []string{"loadbalancer/net/"}, NeedsRegion: true, MinSegments: 2}
	LambdaFunc      = Kind{Name: "Lambda function", Service: "lambda", ResourcePrefix: "function:", NeedsRegion: true, MinSegments: 1}
	SNSTopic        = Kind{Name: "SNS topic", Service: "sns", ResourcePrefix: "", NeedsRegion: true, MinSegments: 1}
	IAMRole         = Kind{Name: "IAM role", Service: "iam", ResourcePrefix: "role/", NeedsRegion: false, MinSegments: 1}
	ECSService      = Kind{Name: "ECS service", Service: "ecs", ResourcePrefix: "service/", NeedsRegion: true, MinSegments: 2}
	CodeDeployGroup = Kind{Name: "CodeDeploy deployment group", Service: "codedeploy", ResourcePrefix: "deploymentgroup:", NeedsRegion: true, MinSegments: 1}
	StateMachine    = Kind{Name: "Step Functions state machine", Service: "states", ResourcePrefix: "stateMachine:", NeedsRegion: true, MinSegments: 1}
)

// Check parses s and reports whether it names a resource of kind k. The
// error says what was expected.
func (k Kind) Check(s string) (ARN, error) {
	a, err := Parse(s)
	if err != nil {
		return ARN{}, err
	}
	if a.Service != k.Service {
		return ARN{}, fmt.Errorf("%q is an ARN of the service %q; a %s ARN has the service %q", s, a.Service, k.Name, k.Service)
	}
	if k.NeedsRegion && a.Region == "" {
		return ARN{}, fmt.Errorf("%q has no region; a %s ARN names its region", s, k.Name)
	}
	prefix := k.ResourcePrefix
	for _, alt := range k.Alternates {
		if strings.HasPrefix(a.Resource, alt) {
			prefix = alt
		}
	}
	if !strings.HasPrefix(a.Resource, prefix) {
		for p, why := range k.Hints {
			if strings.HasPrefix(a.Resource, p) {
				return ARN{}, fmt.Errorf("%q is not a %s ARN: %s", s, k.Name, why)
			}
		}
		want := fmt.Sprintf("%q", k.ResourcePrefix)
		for _, alt := range k.Alternates {
			want += fmt.Sprintf(" or %q", alt)
		}
		return ARN{}, fmt.Errorf("%q has the resource part %q; a %s ARN's resource part starts with %s", s, a.Resource, k.Name, want)
	}
	rest := strings.TrimPrefix(a.Resource, prefix)
	sep := "/"
	if strings.HasSuffix(k.ResourcePrefix, ":") {
		sep = ":"
	}
	segs := strings.Split(rest, sep)
	if k.MinSegments > 0 {
		if len(segs) < k.MinSegments {
			return ARN{}, fmt.Errorf("%q is incomplete; a %s ARN's resource part is %s followed by %d %q-separated parts", s, k.Name, prefix, k.MinSegments, sep)
		}
		for _, seg := range segs {
			if seg == "" {
				return ARN{}, fmt.Errorf("%q has an empty part in its resource %q", s, a.Resource)
			}
		}
	}
	return a, nil
}

// ListenerOfRule returns the listener ARN that a listener rule ARN belongs to.
func ListenerOfRule(rule string) (string, error) {
	a, err := ListenerRule.Check(rule)
	if err != nil {
		return "", err
	}
	segs := strings.Split(strings.TrimPrefix(a.Resource, ListenerRule.ResourcePrefix), "/")
	// name/lb-id/listener-id/rule-id
	listener := "listener/app/" + strings.Join(segs[:3], "/")
	return strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.AccountID, listener}, ":"), nil
}

// TargetGroupDimension returns the CloudWatch dimension value of a target group
// ARN: "targetgroup/NAME/ID".
func TargetGroupDimension(tg string) (string, error) {
	a, err := TargetGroup.Check(tg)
	if err != nil {
		return "", err
	}
	return a.Resource, nil
}

// LoadBalancerDimension returns the CloudWatch dimension value of a load
// balancer ARN: "app/NAME/ID" or "net/NAME/ID".
func LoadBalancerDimension(lb string) (string, error) {
	a, err := LoadBalancer.Check(lb)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(a.Resource, "loadbalancer/"), nil
}

// LoadBalancerOfListener returns the CloudWatch dimension value of the load
// balancer a listener ARN belongs to: "app/NAME/ID" or "net/NAME/ID".
func LoadBalancerOfListener(listener string) (string, error) {
	a, err := Listener.Check(listener)
	if err != nil {
		return "", err
	}
	segs := strings.Split(strings.TrimPrefix(a.Resource, "listener/"), "/")
	// type/name/lb-id/listener-id
	return strings.Join(segs[:3], "/"), nil
}

// IsNetwork reports whether a listener (or load balancer) ARN is a
// Network Load Balancer's.
func IsNetwork(s string) bool {
	a, err := Parse(s)
	return err == nil && (strings.HasPrefix(a.Resource, "listener/net/") || strings.HasPrefix(a.Resource, "loadbalancer/net/"))
}

// ECSServiceParts are the cluster and the service of an ECS service ARN in
// the long format ("service/CLUSTER/NAME"), which names its cluster.
func ECSServiceParts(s string) (cluster, service string, err error) {
	a, err := ECSService.Check(s)
	if err != nil {
		return "", "", err
	}
	segs := strings.Split(strings.TrimPrefix(a.Resource, "service/"), "/")
	return segs[0], segs[1], nil
}

// CodeDeployGroupParts are the application and the group of a CodeDeploy
// deployment group ARN ("deploymentgroup:APPLICATION/GROUP").
func CodeDeployGroupParts(s string) (app, group string, err error) {
	a, err := CodeDeployGroup.Check(s)
	if err != nil {
		return "", "", err
	}
	app, group, ok := strings.Cut(strings.TrimPrefix(a.Resource, "deploymentgroup:"), "/")
	if !ok || app == "" || group == "" {
		return "", "", fmt.Errorf("%q is incomplete; a CodeDeploy deployment group ARN's resource part is deploymentgroup:APPLICATION/GROUP", s)
	}
	return app, group, nil
}

package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The Lambda layer: kumo has functions and Invoke, but no PublishVersion
// and no aliases. The layer answers, from the Lambda API reference,
// PublishVersion, ListVersionsByFunction, CreateAlias, GetAlias,
// UpdateAlias, DeleteAlias and ListAliases, with aliases'
// RoutingConfig.AdditionalVersionWeights and AWS's errors: an unknown
// function or version (ResourceNotFoundException), an alias that exists
// (ResourceConflictException), and in routing $LATEST, more than one
// additional version, the primary version itself, a weight outside 0 to 1,
// or $LATEST as the primary (InvalidParameterValueException).

type lambdaFunction struct {
	arn      string
	versions int // published: 1..versions
	aliases  map[string]*lambdaAlias
}

type lambdaAlias struct {
	Name, Version, Description string
	Weights                    map[string]float64
	revision                   int
}

type lambdaLayer struct {
	mu        sync.Mutex
	functions map[string]*lambdaFunction
	kumoURL   string
}

var (
	lambdaVersionsPath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/versions$`)
	lambdaAliasesPath  = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/aliases(?:/([^/]+))?$`)
	aliasNameRE        = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
)

// functionName takes a name, a partial ARN or a full ARN (as the path may
// carry) to the function's name.
func functionName(s string) string {
	s, _ = url.PathUnescape(s)
	if i := strings.Index(s, "function:"); i >= 0 {
		s = s[i+len("function:"):]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	return s
}

// serve answers a Lambda version or alias request, or returns false to
// forward it to kumo.
func (l *lambdaLayer) serve(w http.ResponseWriter, r *http.Request, body []byte) bool {
	if m := lambdaVersionsPath.FindStringSubmatch(r.URL.Path); m != nil {
		fn, ok := l.function(r, functionName(m[1]))
		if !ok {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+functionName(m[1]))
			return true
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		switch r.Method {
		case http.MethodPost:
			fn.versions++
			writeLambdaJSON(w, http.StatusCreated, l.version(fn, strconv.Itoa(fn.versions)))
		case http.MethodGet:
			out := []any{l.version(fn, "$LATEST")}
			for v := 1; v <= fn.versions; v++ {
				out = append(out, l.version(fn, strconv.Itoa(v)))
			}
			writeLambdaJSON(w, http.StatusOK, map[string]any{"Versions": out})
		default:
			return false
		}
		return true
	}
	m := lambdaAliasesPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	name := functionName(m[1])
	fn, ok := l.function(r, name)
	if !ok {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	alias, _ := url.PathUnescape(m[2])
	var req struct {
		Name, FunctionVersion, Description *string
		RoutingConfig                      *struct{ AdditionalVersionWeights map[string]float64 }
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "the request body is not JSON")
			return true
		}
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	switch {
	case alias == "" && r.Method == http.MethodGet:
		var names []string
		for n := range fn.aliases {
			names = append(names, n)
		}
		sort.Strings(names)
		var out []any
		for _, n := range names {
			out = append(out, l.aliasJSON(fn, fn.aliases[n]))
		}
		writeLambdaJSON(w, http.StatusOK, map[string]any{"Aliases": out})
	case alias == "" && r.Method == http.MethodPost:
		a := &lambdaAlias{Name: str(req.Name), Version: str(req.FunctionVersion), Description: str(req.Description), revision: 1}
		if !aliasNameRE.MatchString(a.Name) || regexp.MustCompile(`^[0-9]+$`).MatchString(a.Name) {
			lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("alias name %q is not 1 to 128 of a-z A-Z 0-9 - _, or is all digits", a.Name))
			return true
		}
		if fn.aliases[a.Name] != nil {
			lambdaError(w, http.StatusConflict, "ResourceConflictException", "Alias already exists: "+fn.arn+":"+a.Name)
			return true
		}
		if req.RoutingConfig != nil {
			a.Weights = req.RoutingConfig.AdditionalVersionWeights
		}
		if code, msg := l.check(fn, a); code != "" {
			lambdaError(w, statusOf(code), code, msg)
			return true
		}
		fn.aliases[a.Name] = a
		writeLambdaJSON(w, http.StatusCreated, l.aliasJSON(fn, a))
	case alias != "":
		a := fn.aliases[alias]
		if a == nil {
			lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Alias not found: "+fn.arn+":"+alias)
			return true
		}
		switch r.Method {
		case http.MethodGet:
			writeLambdaJSON(w, http.StatusOK, l.aliasJSON(fn, a))
		case http.MethodDelete:
			delete(fn.aliases, alias)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodPut:
			next := *a
			if req.FunctionVersion != nil {
				next.Version = *req.FunctionVersion
			}
			if req.Description != nil {
				next.Description = *req.Description
			}
			if req.RoutingConfig != nil {
				next.Weights = req.RoutingConfig.AdditionalVersionWeights
			}
			if code, msg := l.check(fn, &next); code != "" {
				lambdaError(w, statusOf(code), code, msg)
				return true
			}
			next.revision++
			*a = next
			writeLambdaJSON(w, http.StatusOK, l.aliasJSON(fn, a))
		default:
			return false
		}
	default:
		return false
	}
	return true
}

// check applies AWS's rules for an alias's versions and routing.
func (l *lambdaLayer) check(fn *lambdaFunction, a *lambdaAlias) (string, string) {
	exists := func(v string) bool {
		n, err := strconv.Atoi(v)
		return v == "$LATEST" || (err == nil && n >= 1 && n <= fn.versions && strconv.Itoa(n) == v)
	}
	if !exists(a.Version) {
		return "ResourceNotFoundException", fmt.Sprintf("Function not found: %s:%s", fn.arn, a.Version)
	}
	if len(a.Weights) == 0 {
		return "", ""
	}
	if len(a.Weights) > 1 {
		return "InvalidParameterValueException", fmt.Sprintf("An alias routes to at most one additional version; %d were given", len(a.Weights))
	}
	if a.Version == "$LATEST" {
		return "InvalidParameterValueException", "An alias with a routing config must point to a published version, not $LATEST"
	}
	for v, w := range a.Weights {
		switch {
		case v == "$LATEST":
			return "InvalidParameterValueException", "$LATEST is not supported for an additional version in a routing config"
		case v == a.Version:
			return "InvalidParameterValueException", "The additional version must differ from the alias's FunctionVersion"
		case !exists(v):
			return "InvalidParameterValueException", fmt.Sprintf("Version %s of %s does not exist", v, fn.arn)
		case w < 0 || w > 1:
			return "InvalidParameterValueException", fmt.Sprintf("Weight %v of version %s is outside 0.0 to 1.0", w, v)
		}
	}
	return "", ""
}

func statusOf(code string) int {
	switch code {
	case "ResourceNotFoundException":
		return http.StatusNotFound
	case "ResourceConflictException":
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// function finds a function kumo holds (asking kumo the first time).
func (l *lambdaLayer) function(r *http.Request, name string) (*lambdaFunction, bool) {
	l.mu.Lock()
	if fn := l.functions[name]; fn != nil {
		l.mu.Unlock()
		return fn, true
	}
	l.mu.Unlock()
	req, err := http.NewRequest(http.MethodGet, l.kumoURL+"/2015-03-31/functions/"+url.PathEscape(name), nil)
	if err != nil {
		return nil, false
	}
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var got struct{ Configuration struct{ FunctionArn string } }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &got) != nil || got.Configuration.FunctionArn == "" {
		return nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.functions[name] == nil {
		l.functions[name] = &lambdaFunction{arn: got.Configuration.FunctionArn, aliases: map[string]*lambdaAlias{}}
	}
	return l.functions[name], true
}

func (l *lambdaLayer) version(fn *lambdaFunction, v string) map[string]any {
	name := fn.arn[strings.LastIndex(fn.arn, ":")+1:]
	return map[string]any{"FunctionName": name, "FunctionArn": fn.arn + ":" + v, "Version": v}
}

func (l *lambdaLayer) aliasJSON(fn *lambdaFunction, a *lambdaAlias) map[string]any {
	out := map[string]any{"AliasArn": fn.arn + ":" + a.Name, "Name": a.Name, "FunctionVersion": a.Version,
		"Description": a.Description, "RevisionId": fmt.Sprintf("rev-%d", a.revision)}
	if len(a.Weights) > 0 {
		out["RoutingConfig"] = map[string]any{"AdditionalVersionWeights": a.Weights}
	}
	return out
}

func writeLambdaJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func lambdaError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

package emulator

import (
	"bytes"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The OIDC layer: kumo keeps the type and order of an authenticate-oidc
// action but drops its AuthenticateOidcConfig. As the ELB API reference
// describes, the layer keeps the config of every listener's and rule's
// authenticate-oidc action, puts it back into DescribeListeners and
// DescribeRules answers without the ClientSecret (AWS never returns it),
// and refuses a ModifyListener or ModifyRule whose authenticate-oidc action
// has neither a ClientSecret nor UseExistingClientSecret = true.

// oidcFields are the AuthenticateOidcConfig members the layer keeps, in
// the order DescribeListeners gives them.
var oidcFields = []string{"Issuer", "AuthorizationEndpoint", "TokenEndpoint", "UserInfoEndpoint", "ClientId",
	"SessionCookieName", "Scope", "SessionTimeout", "OnUnauthenticatedRequest"}

type oidcConfig struct {
	fields url.Values
	secret string
}

// oidcWrite checks and keeps the authenticate-oidc config of a
// ModifyListener or ModifyRule. It returns an error answer, or nil.
func (e *Emulator) oidcWrite(action string, form url.Values) []byte {
	prefix, owner := "DefaultActions", form.Get("ListenerArn")
	if action == "elasticloadbalancing:ModifyRule" {
		prefix, owner = "Actions", form.Get("RuleArn")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var kept *oidcConfig
	for n := 1; ; n++ {
		m := prefix + ".member." + strconv.Itoa(n) + "."
		typ := form.Get(m + "Type")
		if typ == "" {
			break
		}
		if typ != "authenticate-oidc" {
			continue
		}
		c := m + "AuthenticateOidcConfig."
		secret := form.Get(c + "ClientSecret")
		if secret == "" {
			if form.Get(c+"UseExistingClientSecret") != "true" {
				return elbError("ValidationError", "An authenticate-oidc action needs ClientSecret, or UseExistingClientSecret set to true to keep the secret the listener or rule has")
			}
			prev := e.oidc[owner]
			if prev == nil {
				return elbError("ValidationError", "UseExistingClientSecret is true but the listener or rule has no client secret to keep")
			}
			secret = prev.secret
		}
		kept = &oidcConfig{fields: url.Values{}, secret: secret}
		for _, f := range oidcFields {
			if v := form.Get(c + f); v != "" {
				kept.fields.Set(f, v)
			}
		}
	}
	if kept == nil {
		delete(e.oidc, owner)
	} else {
		e.oidc[owner] = kept
	}
	return nil
}

var arnTagRE = regexp.MustCompile(`<(ListenerArn|RuleArn)>([^<]*)</(?:ListenerArn|RuleArn)>`)

// oidcAnswer puts the kept configs back into a DescribeListeners or
// DescribeRules answer, after each authenticate-oidc action's type.
func (e *Emulator) oidcAnswer(body []byte) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.oidc) == 0 {
		return body
	}
	locs := arnTagRE.FindAllSubmatchIndex(body, -1)
	var out bytes.Buffer
	last := 0
	for i, l := range locs {
		end := len(body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		// A listener's answer also names rules' listeners and the other
		// way round; only the owner's own tag opens its section.
		c := e.oidc[string(body[l[4]:l[5]])]
		section := body[l[0]:end]
		out.Write(body[last:l[0]])
		if c != nil {
			var cfg strings.Builder
			cfg.WriteString("<AuthenticateOidcConfig>")
			for _, f := range oidcFields {
				if v := c.fields.Get(f); v != "" {
					cfg.WriteString("<" + f + ">" + html.EscapeString(v) + "</" + f + ">")
				}
			}
			cfg.WriteString("</AuthenticateOidcConfig>")
			section = bytes.Replace(section, []byte("<Type>authenticate-oidc</Type>"), []byte("<Type>authenticate-oidc</Type>"+cfg.String()), 1)
		}
		out.Write(section)
		last = end
	}
	out.Write(body[last:])
	return out.Bytes()
}

func elbError(code, msg string) []byte {
	return []byte(`<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>` + code + `</Code><Message>` + html.EscapeString(msg) + `</Message></Error><RequestId>rollout-emulator</RequestId></ErrorResponse>`)
}

package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// The foreign deployments layer: the systems that shift a listener's
// weights besides this provider. kumo has ECS clusters and services but no
// DescribeServices and none of the service deployments' lifecycle
// (ListServiceDeployments, DescribeServiceDeployments), and no CodeDeploy.
// The front answers these from the ECS and CodeDeploy API references
// (JSON 1.1, epoch-second timestamps, each service's error shapes), from
// its own state:
//   - ECS: DescribeServices, ListServiceDeployments (filtered by status),
//     DescribeServiceDeployments (with lifecycleStage); services are the
//     front's (ECSService), or recorded from kumo's CreateService answers;
//   - CodeDeploy: CreateApplication, CreateDeploymentGroup,
//     BatchGetDeploymentGroups, GetDeploymentGroup, CreateDeployment,
//     GetDeployment, ListDeployments (filtered by includeOnlyStatuses),
//     StopDeployment.
// A test moves a deployment through its stages with SetECSDeployment and
// SetCodeDeployStatus, as the service would.

type ecsService struct {
	arn, name, cluster string
	targetGroups       []string
	controller         string
}

// ECSDeployment is one service deployment as the front reports it.
type ECSDeployment struct {
	ARN, Service, Cluster string
	// Status is ECS's: PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED,
	// STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS,
	// ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED.
	Status string
	// Stage is its lifecycleStage (TEST_TRAFFIC_SHIFT, BAKE_TIME, …).
	Stage    string
	Strategy string
	Created  time.Time
}

type codeDeployGroup struct {
	app, name, id string
	listeners     []string
	targetGroups  []string
}

type codeDeployment struct {
	id, app, group, status string
	created                time.Time
}

type deployments struct {
	mu          sync.Mutex
	services    map[string]*ecsService // by ARN
	ecs         map[string]*ECSDeployment
	apps        map[string]bool
	groups      map[string]*codeDeployGroup // app/group
	deployments map[string]*codeDeployment
	next        int
	// endAfterList: service deployments that end right after the next
	// ListServiceDeployments answer that lists them (EndECSDeploymentAfterList)
	endAfterList map[string]string
}

func (e *Emulator) deps() *deployments {
	e.depsOnce.Do(func() {
		e.deployments = &deployments{services: map[string]*ecsService{}, ecs: map[string]*ECSDeployment{}, apps: map[string]bool{},
			groups: map[string]*codeDeployGroup{}, deployments: map[string]*codeDeployment{}}
	})
	return e.deployments
}

// ECSService registers an ECS service whose load balancer forwards to
// targetGroups (its blue/green pair), deployed by its controller ("ECS",
// "CODE_DEPLOY", "EXTERNAL"), and returns its ARN.
func (e *Emulator) ECSService(cluster, name, controller string, targetGroups ...string) string {
	d := e.deps()
	d.mu.Lock()
	defer d.mu.Unlock()
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", emuRegion, emuAccount, cluster, name)
	d.services[arn] = &ecsService{arn: arn, name: name, cluster: cluster, targetGroups: targetGroups, controller: controller}
	return arn
}

// SetECSDeployment starts or moves a service deployment (by its ARN, ""
// for a new one) and returns its ARN.
func (e *Emulator) SetECSDeployment(serviceARN, deploymentARN, status, stage string) string {
	d := e.deps()
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.services[serviceARN]
	if s == nil {
		panic("SetECSDeployment: no service " + serviceARN)
	}
	dep := d.ecs[deploymentARN]
	if dep == nil {
		d.next++
		deploymentARN = fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/%s/d%08d", emuRegion, emuAccount, s.cluster, s.name, d.next)
		dep = &ECSDeployment{ARN: deploymentARN, Service: serviceARN, Cluster: s.cluster, Strategy: "BLUE_GREEN", Created: time.Now()}
		d.ecs[deploymentARN] = dep
	}
	dep.Status, dep.Stage = status, stage
	return deploymentARN
}

// EndECSDeploymentAfterList makes a service deployment end right after the
// next ListServiceDeployments answer that lists it, before any other call:
// it moves to status (SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL, …, stage
// CLEAN_UP), or, with status "", it is forgotten, so that
// DescribeServiceDeployments answers it as a failure with reason MISSING.
// A reader that lists and then describes sees it end in between, as it may
// on ECS.
func (e *Emulator) EndECSDeploymentAfterList(deploymentARN, status string) {
	d := e.deps()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ecs[deploymentARN] == nil {
		panic("EndECSDeploymentAfterList: no deployment " + deploymentARN)
	}
	if d.endAfterList == nil {
		d.endAfterList = map[string]string{}
	}
	d.endAfterList[deploymentARN] = status
}

// CodeDeployGroup registers a CodeDeploy application and an ECS
// deployment group whose production traffic route is listener, and
// returns the group's ARN.
func (e *Emulator) CodeDeployGroup(app, group, listener string, targetGroups ...string) string {
	d := e.deps()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.apps[app] = true
	d.next++
	d.groups[app+"/"+group] = &codeDeployGroup{app: app, name: group, id: fmt.Sprintf("dg-%08d", d.next), listeners: []string{listener}, targetGroups: targetGroups}
	return fmt.Sprintf("arn:aws:codedeploy:%s:%s:deploymentgroup:%s/%s", emuRegion, emuAccount, app, group)
}

// SetCodeDeployStatus starts a deployment of a group (id "") or moves one
// (Created, Queued, InProgress, Baking, Ready, Succeeded, Failed,
// Stopped), and returns its id.
func (e *Emulator) SetCodeDeployStatus(app, group, id, status string) string {
	d := e.deps()
	d.mu.Lock()
	defer d.mu.Unlock()
	dep := d.deployments[id]
	if dep == nil {
		d.next++
		id = fmt.Sprintf("d-EMU%06d", d.next)
		dep = &codeDeployment{id: id, app: app, group: group, created: time.Now()}
		d.deployments[id] = dep
	}
	dep.status = status
	return id
}

const (
	emuRegion  = "us-east-1"
	emuAccount = "000000000000"
)

// jsonError answers a JSON 1.1 error.
func jsonError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func jsonAnswer(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	_, _ = w.Write(b)
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// ecsActive are the statuses of a service deployment that is not over.
var ecsActive = map[string]bool{"PENDING": true, "IN_PROGRESS": true, "STOP_REQUESTED": true, "ROLLBACK_REQUESTED": true, "ROLLBACK_IN_PROGRESS": true}

// serveDeployments answers the ECS and CodeDeploy calls the front owns;
// false leaves the request to kumo.
func (e *Emulator) serveDeployments(w http.ResponseWriter, action string, body []byte) bool {
	service, op, _ := strings.Cut(action, ":")
	switch service {
	case "ecs":
		switch op {
		case "DescribeServices", "ListServiceDeployments", "DescribeServiceDeployments":
		default:
			return false
		}
	case "codedeploy":
	default:
		return false
	}
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		jsonError(w, http.StatusBadRequest, "SerializationException", "the request is not JSON")
		return true
	}
	d := e.deps()
	d.mu.Lock()
	defer d.mu.Unlock()
	str := func(k string) string { s, _ := in[k].(string); return s }
	strs := func(k string) []string {
		var out []string
		l, _ := in[k].([]any)
		for _, v := range l {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	switch op {
	case "DescribeServices":
		var svcs []any
		var failures []any
		for _, name := range strs("services") {
			s := d.service(str("cluster"), name)
			if s == nil {
				failures = append(failures, map[string]any{"arn": name, "reason": "MISSING"})
				continue
			}
			var lbs []any
			for _, tg := range s.targetGroups {
				lbs = append(lbs, map[string]any{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080})
			}
			var deps []any
			for _, dep := range d.ecs {
				if dep.Service == s.arn && ecsActive[dep.Status] {
					deps = append(deps, map[string]any{"id": dep.ARN[strings.LastIndex(dep.ARN, "/")+1:], "status": "PRIMARY", "rolloutState": "IN_PROGRESS", "createdAt": epoch(dep.Created)})
				}
			}
			svcs = append(svcs, map[string]any{"serviceArn": s.arn, "serviceName": s.name, "clusterArn": fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", emuRegion, emuAccount, s.cluster),
				"status": "ACTIVE", "deploymentController": map[string]any{"type": s.controller}, "loadBalancers": lbs, "deployments": deps})
		}
		jsonAnswer(w, map[string]any{"services": svcs, "failures": failures})
	case "ListServiceDeployments":
		s := d.service(str("cluster"), str("service"))
		if s == nil {
			jsonError(w, http.StatusBadRequest, "ServiceNotFoundException", "Service not found.")
			return true
		}
		want := map[string]bool{}
		for _, st := range strs("status") {
			want[st] = true
		}
		var out []any
		for _, dep := range d.sortedECS() {
			if dep.Service == s.arn && (len(want) == 0 || want[dep.Status]) {
				out = append(out, map[string]any{"serviceDeploymentArn": dep.ARN, "serviceArn": dep.Service, "status": dep.Status,
					"clusterArn": fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", emuRegion, emuAccount, dep.Cluster), "createdAt": epoch(dep.Created), "startedAt": epoch(dep.Created)})
			}
		}
		jsonAnswer(w, map[string]any{"serviceDeployments": out})
		for _, o := range out {
			a := o.(map[string]any)["serviceDeploymentArn"].(string)
			status, ok := d.endAfterList[a]
			if !ok {
				continue
			}
			delete(d.endAfterList, a)
			if status == "" {
				delete(d.ecs, a)
				continue
			}
			d.ecs[a].Status, d.ecs[a].Stage = status, "CLEAN_UP"
		}
	case "DescribeServiceDeployments":
		var out, failures []any
		for _, a := range strs("serviceDeploymentArns") {
			dep := d.ecs[a]
			if dep == nil {
				failures = append(failures, map[string]any{"arn": a, "reason": "MISSING"})
				continue
			}
			out = append(out, map[string]any{"serviceDeploymentArn": dep.ARN, "serviceArn": dep.Service, "status": dep.Status, "lifecycleStage": dep.Stage,
				"clusterArn": fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", emuRegion, emuAccount, dep.Cluster), "createdAt": epoch(dep.Created), "startedAt": epoch(dep.Created),
				"deploymentConfiguration": map[string]any{"strategy": dep.Strategy}})
		}
		jsonAnswer(w, map[string]any{"serviceDeployments": out, "failures": failures})
	case "CreateApplication":
		d.apps[str("applicationName")] = true
		d.next++
		jsonAnswer(w, map[string]any{"applicationId": fmt.Sprintf("app-%08d", d.next)})
	case "CreateDeploymentGroup":
		app := str("applicationName")
		if !d.apps[app] {
			jsonError(w, http.StatusBadRequest, "ApplicationDoesNotExistException", "No application found for name: "+app)
			return true
		}
		g := &codeDeployGroup{app: app, name: str("deploymentGroupName")}
		d.next++
		g.id = fmt.Sprintf("dg-%08d", d.next)
		if lbi, ok := in["loadBalancerInfo"].(map[string]any); ok {
			pairs, _ := lbi["targetGroupPairInfoList"].([]any)
			for _, p := range pairs {
				pm, _ := p.(map[string]any)
				if prod, ok := pm["prodTrafficRoute"].(map[string]any); ok {
					for _, l := range prod["listenerArns"].([]any) {
						g.listeners = append(g.listeners, fmt.Sprint(l))
					}
				}
				tgs, _ := pm["targetGroups"].([]any)
				for _, tg := range tgs {
					if m, ok := tg.(map[string]any); ok {
						g.targetGroups = append(g.targetGroups, fmt.Sprint(m["name"]))
					}
				}
			}
		}
		d.groups[app+"/"+g.name] = g
		jsonAnswer(w, map[string]any{"deploymentGroupId": g.id})
	case "BatchGetDeploymentGroups", "GetDeploymentGroup":
		app := str("applicationName")
		if !d.apps[app] {
			jsonError(w, http.StatusBadRequest, "ApplicationDoesNotExistException", "No application found for name: "+app)
			return true
		}
		names := strs("deploymentGroupNames")
		if op == "GetDeploymentGroup" {
			names = []string{str("deploymentGroupName")}
		}
		var infos []any
		var missing []string
		for _, n := range names {
			g := d.groups[app+"/"+n]
			if g == nil {
				missing = append(missing, n)
				continue
			}
			var tgs []any
			for _, tg := range g.targetGroups {
				tgs = append(tgs, map[string]any{"name": tg})
			}
			infos = append(infos, map[string]any{"applicationName": g.app, "deploymentGroupName": g.name, "deploymentGroupId": g.id, "computePlatform": "ECS",
				"deploymentStyle":  map[string]any{"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
				"loadBalancerInfo": map[string]any{"targetGroupPairInfoList": []any{map[string]any{"targetGroups": tgs, "prodTrafficRoute": map[string]any{"listenerArns": g.listeners}}}}})
		}
		if op == "GetDeploymentGroup" {
			if len(infos) == 0 {
				jsonError(w, http.StatusBadRequest, "DeploymentGroupDoesNotExistException", "No Deployment Group found for name: "+names[0])
				return true
			}
			jsonAnswer(w, map[string]any{"deploymentGroupInfo": infos[0]})
			return true
		}
		out := map[string]any{"deploymentGroupsInfo": infos}
		if len(missing) > 0 {
			out["errorMessage"] = "Deployment groups not found: " + strings.Join(missing, ", ")
		}
		jsonAnswer(w, out)
	case "CreateDeployment":
		app, group := str("applicationName"), str("deploymentGroupName")
		if d.groups[app+"/"+group] == nil {
			jsonError(w, http.StatusBadRequest, "DeploymentGroupDoesNotExistException", "No Deployment Group found for name: "+group)
			return true
		}
		d.next++
		id := fmt.Sprintf("d-EMU%06d", d.next)
		d.deployments[id] = &codeDeployment{id: id, app: app, group: group, status: "Created", created: time.Now()}
		jsonAnswer(w, map[string]any{"deploymentId": id})
	case "GetDeployment":
		dep := d.deployments[str("deploymentId")]
		if dep == nil {
			jsonError(w, http.StatusBadRequest, "DeploymentDoesNotExistException", "Deployment "+str("deploymentId")+" does not exist")
			return true
		}
		jsonAnswer(w, map[string]any{"deploymentInfo": map[string]any{"deploymentId": dep.id, "applicationName": dep.app, "deploymentGroupName": dep.group,
			"status": dep.status, "createTime": epoch(dep.created), "computePlatform": "ECS", "creator": "user"}})
	case "ListDeployments":
		want := map[string]bool{}
		for _, st := range strs("includeOnlyStatuses") {
			want[st] = true
		}
		var ids []string
		for _, dep := range d.deployments {
			if (str("applicationName") == "" || dep.app == str("applicationName")) && (str("deploymentGroupName") == "" || dep.group == str("deploymentGroupName")) &&
				(len(want) == 0 || want[dep.status]) {
				ids = append(ids, dep.id)
			}
		}
		sort.Strings(ids)
		jsonAnswer(w, map[string]any{"deployments": ids})
	case "StopDeployment":
		dep := d.deployments[str("deploymentId")]
		if dep == nil {
			jsonError(w, http.StatusBadRequest, "DeploymentDoesNotExistException", "Deployment "+str("deploymentId")+" does not exist")
			return true
		}
		dep.status = "Stopped"
		jsonAnswer(w, map[string]any{"status": "Succeeded", "statusMessage": "stopped"})
	default:
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", "the front does not answer CodeDeploy "+op)
	}
	return true
}

// service finds a service by ARN or by name in cluster.
func (d *deployments) service(cluster, nameOrARN string) *ecsService {
	if s := d.services[nameOrARN]; s != nil {
		return s
	}
	if cluster == "" {
		cluster = "default"
	}
	if i := strings.LastIndex(cluster, "/"); i >= 0 {
		cluster = cluster[i+1:]
	}
	for _, s := range d.services {
		if s.name == nameOrARN && s.cluster == cluster {
			return s
		}
	}
	return nil
}

func (d *deployments) sortedECS() []*ECSDeployment {
	var out []*ECSDeployment
	for _, dep := range d.ecs {
		out = append(out, dep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

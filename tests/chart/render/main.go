// Command render renders a Helm chart's templates the way `helm template` does, for machines without Helm (this
// project's CI among them). It uses what Helm itself renders with: Go's text/template with the sprig functions, and
// Helm's own additions (include, tpl, required, toYaml, fromYaml, toJson, fromJson, lookup), the built-in objects
// (.Values, .Release, .Chart, .Files, .Capabilities, .Template), values files merged over the chart's values.yaml
// (a null removes a key), missing keys rendering as empty and failed templates failing the render.
//
//	render [-name RELEASE] [-namespace NS] [-f values.yaml]... CHART_DIR
//
// It writes every rendered manifest to standard output, each after "---" and a "# Source:" line; on an error it
// writes the error to standard error and exits 1. Build it in GOPATH mode with Debian's Go packages (golang-go,
// golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev), as HelmChartTests does:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o render ./tests/chart/render
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"text/template"
	"unicode"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type valueFiles []string

func (v *valueFiles) String() string     { return strings.Join(*v, ",") }
func (v *valueFiles) Set(s string) error { *v = append(*v, s); return nil }

// files is .Files: the chart's files outside templates/, by path relative to the chart.
type files map[string][]byte

func (f files) Get(name string) string      { return string(f[name]) }
func (f files) GetBytes(name string) []byte { return f[name] }

// versionSet is .Capabilities.APIVersions.
type versionSet []string

func (s versionSet) Has(version string) bool {
	for _, v := range s {
		if v == version {
			return true
		}
	}
	return false
}

const recursionLimit = 1000

func main() {
	name := flag.String("name", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	var overrides valueFiles
	flag.Var(&overrides, "f", "values file merged over the chart's values.yaml (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: render [-name RELEASE] [-namespace NS] [-f values.yaml]... CHART_DIR")
		os.Exit(2)
	}

	out, err := render(flag.Arg(0), *name, *namespace, overrides)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	fmt.Print(out)
}

func render(chartDir, releaseName, namespace string, overrides []string) (string, error) {
	var metadata map[string]interface{}
	if err := readYaml(filepath.Join(chartDir, "Chart.yaml"), &metadata); err != nil {
		return "", err
	}
	chartName, _ := metadata["name"].(string)
	if chartName == "" {
		return "", errors.New("Chart.yaml has no name")
	}

	values := map[string]interface{}{}
	if err := readYaml(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return "", err
	}
	for _, path := range overrides {
		override := map[string]interface{}{}
		if err := readYaml(path, &override); err != nil {
			return "", err
		}
		merge(values, override)
	}

	chartFiles, templateFiles, err := readChart(chartDir)
	if err != nil {
		return "", err
	}

	chart := map[string]interface{}{}
	for key, value := range metadata {
		chart[exported(key)] = value
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Release": map[string]interface{}{
			"Name": releaseName, "Namespace": namespace, "Service": "Helm", "Revision": 1, "IsInstall": true, "IsUpgrade": false,
		},
		"Files": chartFiles,
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.31.0", "Major": "1", "Minor": "31", "GitVersion": "v1.31.0"},
			"APIVersions": versionSet{"v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1"},
		},
	}

	root := template.New("chart").Option("missingkey=zero")
	depth := 0
	functions := sprig.TxtFuncMap()
	delete(functions, "env")
	delete(functions, "expandenv")
	functions["toYaml"] = toYaml
	functions["fromYaml"] = fromYaml
	functions["toJson"] = toJSON
	functions["fromJson"] = fromJSON
	functions["required"] = required
	functions["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	functions["include"] = func(name string, data interface{}) (string, error) {
		if depth++; depth > recursionLimit {
			return "", fmt.Errorf("include %q: rendering past %d nested includes", name, recursionLimit)
		}
		defer func() { depth-- }()
		var buffer bytes.Buffer
		err := root.ExecuteTemplate(&buffer, name, data)
		return buffer.String(), err
	}
	functions["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buffer bytes.Buffer
		err = parsed.Execute(&buffer, data)
		return buffer.String(), err
	}
	root.Funcs(functions)

	names := make([]string, 0, len(templateFiles))
	for path, text := range templateFiles {
		full := chartName + "/" + path
		if _, err := root.New(full).Parse(string(text)); err != nil {
			return "", err
		}
		names = append(names, full)
	}
	sort.Strings(names)

	var out strings.Builder
	for _, full := range names {
		base := filepath.Base(full)
		if strings.HasPrefix(base, "_") || strings.EqualFold(base, "NOTES.txt") {
			continue
		}
		data := shallowCopy(top)
		data["Template"] = map[string]interface{}{"Name": full, "BasePath": chartName + "/templates"}
		var buffer bytes.Buffer
		if err := root.ExecuteTemplate(&buffer, full, data); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buffer.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s", full, text)
		if !strings.HasSuffix(text, "\n") {
			out.WriteString("\n")
		}
	}
	return out.String(), nil
}

// readChart returns the chart's files outside templates/ and the templates, by path relative to the chart.
func readChart(chartDir string) (files, map[string][]byte, error) {
	chartFiles, templates := files{}, map[string][]byte{}
	err := filepath.Walk(chartDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		relative, err := filepath.Rel(chartDir, path)
		if err != nil {
			return err
		}
		relative = filepath.ToSlash(relative)
		content, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasPrefix(relative, "templates/") {
			templates[relative] = content
		} else {
			chartFiles[relative] = content
		}
		return nil
	})
	return chartFiles, templates, err
}

func readYaml(path string, into interface{}) error {
	content, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(content, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// merge writes override into base: maps merge key by key, anything else replaces, and a null removes the key.
func merge(base, override map[string]interface{}) {
	for key, value := range override {
		if value == nil {
			delete(base, key)
			continue
		}
		if overrideMap, ok := value.(map[string]interface{}); ok {
			if baseMap, ok := base[key].(map[string]interface{}); ok {
				merge(baseMap, overrideMap)
				continue
			}
		}
		base[key] = value
	}
}

func shallowCopy(m map[string]interface{}) map[string]interface{} {
	copied := make(map[string]interface{}, len(m)+1)
	for key, value := range m {
		copied[key] = value
	}
	return copied
}

// exported spells a Chart.yaml key as Helm's chart metadata field: name is Name, apiVersion is APIVersion.
func exported(key string) string {
	if key == "apiVersion" {
		return "APIVersion"
	}
	runes := []rune(key)
	runes[0] = unicode.ToUpper(runes[0])
	return string(runes)
}

func toYaml(value interface{}) string {
	var buffer bytes.Buffer
	encoder := yaml.NewEncoder(&buffer)
	encoder.SetIndent(2)
	if err := encoder.Encode(plain(value)); err != nil {
		return ""
	}
	return strings.TrimSuffix(buffer.String(), "\n")
}

func fromYaml(text string) map[string]interface{} {
	parsed := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(text), &parsed); err != nil {
		parsed["Error"] = err.Error()
	}
	return parsed
}

func toJSON(value interface{}) string {
	data, err := json.Marshal(plain(value))
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(text string) map[string]interface{} {
	parsed := map[string]interface{}{}
	if err := json.Unmarshal([]byte(text), &parsed); err != nil {
		parsed["Error"] = err.Error()
	}
	return parsed
}

func required(message string, value interface{}) (interface{}, error) {
	if value == nil {
		return nil, errors.New(message)
	}
	if text, ok := value.(string); ok && text == "" {
		return nil, errors.New(message)
	}
	return value, nil
}

// plain turns the named types above back into plain maps and slices for the encoders.
func plain(value interface{}) interface{} {
	switch v := value.(type) {
	case files:
		return map[string][]byte(v)
	case versionSet:
		return []string(v)
	}
	if reflect.ValueOf(value).Kind() == reflect.Invalid {
		return nil
	}
	return value
}

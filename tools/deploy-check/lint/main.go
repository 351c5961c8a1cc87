// deploy-lint: checks the container files with the libraries Docker itself uses, since this
// machine has no Docker engine and no compose plugin.
//
//	deploy-lint dockerfile FILE   parse with BuildKit's Dockerfile parser and run its linter (the
//	                              rules of `docker build --check` that need no build context);
//	                              prints the stages and instructions as JSON for the tests
//	deploy-lint compose FILE      load with compose-go, as `docker compose config` does: the
//	                              compose-spec schema, interpolation, and references between
//	                              services, volumes and files; prints the resolved project as JSON
//
// Any parse error, lint warning or invalid compose file exits 1 with the reasons on stderr.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

type instruction struct {
	Line     int      `json:"line"`
	Command  string   `json:"command"`
	Flags    []string `json:"flags"`
	Args     []string `json:"args"`
	JSONForm bool     `json:"jsonForm"`
	Original string   `json:"original"`
}

type stage struct {
	Name         string        `json:"name"`
	BaseName     string        `json:"baseName"`
	Instructions []instruction `json:"instructions"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "deploy-lint: "+format+"\n", args...)
	os.Exit(1)
}

func lintDockerfile(path string) {
	file, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer file.Close()
	result, err := parser.Parse(file)
	if err != nil {
		fail("%s: %v", path, err)
	}
	var warnings []string
	for _, warning := range result.Warnings {
		warnings = append(warnings, fmt.Sprintf("%s:%d: %s", path, warning.Location.Start.Line, warning.Short))
	}
	lint := linter.New(&linter.Config{
		ExperimentalAll: true,
		Warn: func(rule, description, url, message string, location []parser.Range) {
			line := 0
			if len(location) > 0 {
				line = location[0].Start.Line
			}
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s: %s (%s)", path, line, rule, message, url))
		},
	})
	stages, _, err := instructions.Parse(result.AST, lint)
	if err != nil {
		fail("%s: %v", path, err)
	}
	if len(warnings) > 0 {
		fail("%d lint warning(s):\n  %s", len(warnings), strings.Join(warnings, "\n  "))
	}
	// The parsed instructions, stage by stage, straight from the AST: what BuildKit would run.
	var out []stage
	current := -1
	for _, node := range result.AST.Children {
		command := strings.ToUpper(node.Value)
		if command == "FROM" {
			current++
			out = append(out, stage{Name: stages[current].Name, BaseName: stages[current].BaseName})
		}
		var args []string
		for next := node.Next; next != nil; next = next.Next {
			args = append(args, next.Value)
		}
		parsed := instruction{
			Line:     node.StartLine,
			Command:  command,
			Flags:    node.Flags,
			Args:     args,
			JSONForm: node.Attributes["json"],
			Original: node.Original,
		}
		if current < 0 {
			continue // ARG before the first FROM
		}
		out[current].Instructions = append(out[current].Instructions, parsed)
	}
	emit(out)
}

func lintCompose(path string) {
	absolute, err := filepath.Abs(path)
	if err != nil {
		fail("%v", err)
	}
	options, err := cli.NewProjectOptions(
		[]string{absolute},
		cli.WithWorkingDirectory(filepath.Dir(absolute)),
		cli.WithOsEnv,
		cli.WithConsistency(true),
		cli.WithResolvedPaths(false),
		cli.WithName("kafka-forwarder"),
	)
	if err != nil {
		fail("%v", err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail("%s: %v", path, err)
	}
	emit(project)
}

func emit(value any) {
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(value); err != nil {
		fail("%v", err)
	}
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: deploy-lint dockerfile|compose FILE")
	}
	switch os.Args[1] {
	case "dockerfile":
		lintDockerfile(os.Args[2])
	case "compose":
		lintCompose(os.Args[2])
	default:
		fail("usage: deploy-lint dockerfile|compose FILE")
	}
}

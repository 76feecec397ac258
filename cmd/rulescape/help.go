package main

import (
	"embed"
	"strings"

	"rulescape/internal/devstack"
	"rulescape/workflows"
)

// helpFiles are the commands' long help texts and examples, one text file
// each (help/<command>.long.txt, help/<command>.example.txt), kept as
// documents beside the code as the Temporal CLI keeps its command docs.
//
//go:embed help/*.txt
var helpFiles embed.FS

// helpValues fill the placeholders of the help texts.
var helpValues = strings.NewReplacer(
	"{{versitygw_install}}", devstack.VersitygwInstall,
	"{{task_queue}}", workflows.TaskQueue,
)

// help returns the help text help/<name>.txt, placeholders filled and
// without the file's final newline. A missing file is a programming error
// (TestHelpFiles checks every command's).
func help(name string) string {
	data, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic("rulescape: no help text " + name + ": " + err.Error())
	}
	return helpValues.Replace(strings.TrimSuffix(string(data), "\n"))
}

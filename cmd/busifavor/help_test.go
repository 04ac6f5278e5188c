package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTopLevelHelpListsEveryVariable: busifavor --help names every
// variable the command reads, the APIv2 key and the base URL among them.
func TestTopLevelHelpListsEveryVariable(t *testing.T) {
	code, out, _ := runCmd(t, nil, "--help")
	require.Equal(t, exitOK, code)
	for _, v := range knownVars {
		assert.Contains(t, out, "  "+v, v)
	}
	assert.Contains(t, out, "WECHATPAY_APIV2_KEY         --apiv2-key-file")
	assert.Contains(t, out, "WECHATPAY_BASE_URL          --base-url")
}

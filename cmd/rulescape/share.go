package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"rulescape/internal/atomicfile"
	"rulescape/manifest"
)

func init() { register(newShareCmd) }

// maxShareExpiry is the longest validity of a presigned URL (S3's limit).
const maxShareExpiry = 7 * 24 * time.Hour

var shareLong = help("share.long")

func newShareCmd(a *app) *cobra.Command {
	var (
		expires time.Duration
		out     string
	)
	cmd := &cobra.Command{
		Use:     "share CAMPAIGN",
		Short:   "Presign URLs of a campaign's datasets and print snippets that open them",
		Long:    shareLong,
		Example: help("share.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if expires < time.Second || expires > maxShareExpiry {
				return fmt.Errorf("--expires %v: presigned URLs are valid between 1s and %v (7 days, the S3 limit) — choose a shorter expiry", expires, maxShareExpiry)
			}
			return a.share(cmd.Context(), args[0], expires, out)
		},
	}
	cmd.Flags().DurationVar(&expires, "expires", 72*time.Hour, "how long the URLs stay valid (at most 168h)")
	cmd.Flags().StringVar(&out, "out", "", "share manifest to write (default share-<campaign>.json)")
	return cmd
}

func (a *app) share(ctx context.Context, arg string, expires time.Duration, out string) error {
	oc, err := a.openCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer oc.svc.Close()
	rkey, err := reportKey(oc.id)
	if err != nil {
		return err
	}
	sm, err := manifest.Share(ctx, oc.svc.Store, oc.manifest, expires, rkey)
	if err != nil {
		return err
	}
	if out == "" {
		out = "share-" + oc.id + ".json"
	}
	data, err := json.MarshalIndent(sm, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WritePrivateBytes(out, append(data, '\n')); err != nil {
		return err
	}
	return a.printer().Print(json.RawMessage(data), func(w io.Writer) { sm.WriteText(w, out) })
}

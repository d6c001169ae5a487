package remote

import (
	"context"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/internal/wire/adminwire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

// The guided cutover on the master: its state and passes are there.

func (c *Client) CutoverStart(ctx context.Context, text, name string) (master.CutoverRun, []string, error) {
	return c.cutover(ctx, func(ctx context.Context) (*pb.CutoverResponse, error) {
		return c.c.CutoverStart(ctx, &pb.SubmitRequest{Config: text, ConfigName: name})
	})
}

func (c *Client) CutoverSwitch(ctx context.Context, job, at string) (master.CutoverRun, []string, error) {
	return c.cutover(ctx, func(ctx context.Context) (*pb.CutoverResponse, error) {
		return c.c.CutoverSwitch(ctx, &pb.CutoverSwitchRequest{Job: job, At: at})
	})
}

func (c *Client) CutoverStatus(ctx context.Context, job string) (master.CutoverRun, error) {
	r, _, err := c.cutover(ctx, func(ctx context.Context) (*pb.CutoverResponse, error) {
		return c.c.CutoverStatus(ctx, &pb.JobRequest{Job: job})
	})
	return r, err
}

func (c *Client) CutoverReport(ctx context.Context, job string, limit int) (*cutover.Report, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.CutoverReportResponse, error) {
		return c.c.CutoverReport(ctx, &pb.CutoverReportRequest{Job: job, Limit: int32(min(limit, 1<<31-1))})
	})
	if err != nil {
		return nil, err
	}
	return adminwire.ToCutoverReport(r), nil
}

func (c *Client) cutover(ctx context.Context, f func(context.Context) (*pb.CutoverResponse, error)) (master.CutoverRun, []string, error) {
	r, err := call(ctx, c, f)
	if err != nil {
		return master.CutoverRun{}, nil, err
	}
	return adminwire.ToCutoverState(r.GetState()), r.GetNotes(), nil
}

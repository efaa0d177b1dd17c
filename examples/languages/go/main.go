// Rotates a Redis database's credentials through the upstash-rotation plugin.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/upstash-rotation/pulumi-upstash-rotation/sdk/go/upstashrotation"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg := config.New(ctx, "")
		rotation := cfg.Get("rotation")
		if rotation == "" {
			rotation = "r0"
		}
		cache, err := upstashrotation.NewCredentialRotation(ctx, "cache", &upstashrotation.CredentialRotationArgs{
			Target: upstashrotation.RedisTargetArgs{
				Type:       pulumi.String("redis"),
				DatabaseId: pulumi.String(cfg.Require("databaseId")),
			},
			Trigger:  pulumi.String(rotation),
			OnDelete: pulumi.String("rotate"),
		})
		if err != nil {
			return err
		}
		ctx.Export("redisEnv", cache.Env)
		ctx.Export("redisUrl", cache.RedisUrl)
		ctx.Export("rotatedAt", cache.RotatedAt)
		return nil
	})
}

"""Rotates a Redis database's credentials; with config `user`, an ACL user's, with overlap."""
import pulumi
import pulumi_upstash_rotation as upstash_rotation

config = pulumi.Config()
user = config.get("user")

cache = upstash_rotation.CredentialRotation(
    "cache",
    target=upstash_rotation.RedisTargetArgs(
        type="redis",
        database_id=config.require("databaseId"),
        user=user,
    ),
    trigger=config.get("rotation") or "r0",
    on_delete="rotate",
)

pulumi.export("redisEnv", cache.env)
pulumi.export("redisUrl", cache.redis_url)
pulumi.export("rotatedAt", cache.rotated_at)

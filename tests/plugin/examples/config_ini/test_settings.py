from paysim_out import record


def test_settings(paysim, paysim_server):
    config = paysim_server.simulator.config
    record(
        "settings",
        {
            "seed": paysim_server.seed,
            "api_key": paysim_server.api_key,
            "signature": config.signature,
            "delivery": config.delivery,
            "retries": list(config.webhook_retries),
            "timeout": config.webhook_timeout,
            "rate": config.auto_success_rate,
        },
    )

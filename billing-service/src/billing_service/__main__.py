from billing_service.app import create_app
from billing_service.platform.settings import Settings
from shared.web import run

if __name__ == "__main__":  # worker processes re-import this module: they must not serve
    settings = Settings()
    run(lambda: create_app(settings), settings)

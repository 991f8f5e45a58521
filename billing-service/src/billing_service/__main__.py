from shared.web import run

from billing_service.app import create_app
from billing_service.settings import Settings

settings = Settings()
run(lambda: create_app(settings), host=settings.host, port=settings.port, workers=settings.workers)

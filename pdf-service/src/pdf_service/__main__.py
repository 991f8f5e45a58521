from pdf_service.app import create_app
from pdf_service.settings import Settings
from shared.web import run

settings = Settings()
run(lambda: create_app(settings), host=settings.host, port=settings.port, workers=settings.workers)

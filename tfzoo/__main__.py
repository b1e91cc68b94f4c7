from tfzoo.cli import main_exit

main_exit()
